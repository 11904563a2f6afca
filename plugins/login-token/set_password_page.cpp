// The page the emailed link opens: a small form that posts to change_password.
#include "set_password_page.hpp"

#include <latchkey/support/json_writer.hpp>

namespace latchkey::plugins::buzz {

namespace {

const char* const kPage = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Choose your password</title>
<style nonce="{{nonce}}">
  body { font-family: system-ui, sans-serif; max-width: 26rem; margin: 4rem auto; padding: 0 1rem; }
  label { display: block; margin-top: 1rem; }
  input { width: 100%; padding: .5rem; box-sizing: border-box; }
  label.inline input { width: auto; margin-right: .4rem; }
  button { margin-top: 1.5rem; padding: .6rem 1.2rem; }
  #result { margin-top: 1.5rem; }
  .error { color: #a00; } .ok { color: #070; }
</style>
</head>
<body>
<h1>Choose your password</h1>
<form id="form" novalidate>
  <label>Email <input id="email" name="email" type="email" autocomplete="username" readonly></label>
  <label>New password <input id="password" name="new_password" type="password" autocomplete="new-password" required></label>
  <label>Repeat it <input id="repeat" type="password" autocomplete="new-password" required></label>
  <label class="inline"><input id="show" type="checkbox">Show the passwords</label>
  <button id="submit" type="submit">Set password</button>
</form>
<p id="result" role="status"></p>
<script nonce="{{nonce}}">
(function () {
  var params = new URLSearchParams(location.hash.slice(1));
  var email = params.get('email') || '';
  var token = params.get('token') || '';
  var result = document.getElementById('result');
  function show(text, ok) { result.textContent = text; result.className = ok ? 'ok' : 'error'; }
  document.getElementById('email').value = email;
  // Seeing what one typed (ASVS 2.1.12); hidden again before the form is sent.
  var fields = [document.getElementById('password'), document.getElementById('repeat')];
  var showBox = document.getElementById('show');
  function reveal(on) { fields.forEach(function (f) { f.type = on ? 'text' : 'password'; }); }
  showBox.addEventListener('change', function () { reveal(showBox.checked); });
  if (!email || !token) { show('This link is incomplete: open the link from your email again.', false); }
  document.getElementById('form').addEventListener('submit', function (event) {
    event.preventDefault();
    var password = document.getElementById('password').value;
    if (password !== document.getElementById('repeat').value) { show('The two passwords differ.', false); return; }
    showBox.checked = false; reveal(false);
    fetch({{endpoint}}, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ email: email, new_password: password, login_token: token })
    }).then(function (response) { return response.json(); }).then(function (answer) {
      if (answer.success) {
        show('Your password is set. You can now log in.', true);
        document.getElementById('form').hidden = true;
        history.replaceState(null, '', location.pathname);
      } else {
        show((answer.errors || ['Something went wrong.']).join(' '), false);
      }
    }).catch(function () { show('The server could not be reached. Try again.', false); });
  });
})();
</script>
</body>
</html>
)HTML";

std::string replaceAll(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

} // namespace

Response setPasswordPage(const std::string& changePasswordPath, const std::string& nonce) {
    Response response;
    response.status = 200;
    response.contentType = "text/html; charset=utf-8";
    // The endpoint is written as a JSON string literal: safe inside the script.
    response.body = replaceAll(replaceAll(kPage, "{{nonce}}", nonce), "{{endpoint}}",
                               jsonQuote(changePasswordPath));
    response.headers = {
        {"Content-Security-Policy",
         "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-" + nonce +
             "'; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
        {"Cross-Origin-Opener-Policy", "same-origin"}};
    return response;
}

} // namespace latchkey::plugins::buzz
