// Opens the emailed set-password link in Debian's headless Chromium, fills in the form and
// submits it, as the person who received the mail would.
// Usage: node set_password_e2e.js <link> <new password> [screenshot.png]
// Exits 0 when the page says the password is set; prints what it saw otherwise.
'use strict';
const { chromium } = require('playwright-core');

async function main() {
  const [link, password, screenshot] = process.argv.slice(2);
  if (!link || !password) {
    console.error('usage: node set_password_e2e.js <link> <new password> [screenshot.png]');
    process.exit(2);
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    // The machine has no network beyond loopback: keep Chromium from trying.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(link, { waitUntil: 'load', timeout: 15000 });
    const email = await page.inputValue('#email');
    await page.fill('#password', password);
    await page.fill('#repeat', password);
    // The show-password box reveals both fields, and they are masked again when sent.
    const types = async () => [await page.getAttribute('#password', 'type'),
                               await page.getAttribute('#repeat', 'type')].join(',');
    if (await types() !== 'password,password') problems.push('masked at first: ' + await types());
    await page.check('#show');
    if (await types() !== 'text,text') problems.push('shown when checked: ' + await types());
    await page.click('#submit');
    if (await types() !== 'password,password') problems.push('masked when sent: ' + await types());
    await page.waitForFunction(
      () => document.getElementById('result').textContent.length > 0, null, { timeout: 15000 });
    const result = await page.textContent('#result');
    const urlAfter = page.url();
    if (screenshot) await page.screenshot({ path: screenshot });
    console.log(JSON.stringify({ email, result, urlAfter, problems }));
    process.exit(result.includes('Your password is set') && problems.length === 0 ? 0 : 1);
  } finally {
    await browser.close();
  }
}

main().catch((error) => { console.error(error.stack || String(error)); process.exit(1); });
