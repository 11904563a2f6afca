#!/usr/bin/env node
// Syncano v1.1 compatibility test: drives a running Latchkey server through the official
// `syncano` npm client (exactly 1.0.30, see package.json) and checks what an application
// written against Syncano would rely on.
//
//   npm install                     # once, in this folder
//   node syncano_client_test.js <baseUrl> <adminEmail> <adminPassword>
//
// Prints TAP-style lines ("ok 3 - instance create"), stops at the first failure with
// "not ok N - ..." and details, deletes the instance it created (best effort) and exits 1.
// Exit 0 means every step passed; exit 2 means bad usage or the client is not installed.
//
// Client quirks this script works around (see README.md):
// - A QuerySet's `then(cb)` takes a single callback, so `await querySet` never rejects on an
//   error (it hangs). Every call goes through call(), which does `.then(x => x)` first.
// - Every call has its own timeout (COMPAT_CALL_TIMEOUT_MS, default 15000 ms) so that a
//   server that never answers fails the step instead of hanging the run.
// - The client builds URLs as `${baseUrl}${path}`: the base URL must not end in '/'.
'use strict';

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const path = require('node:path');

let Syncano;
try {
  Syncano = require('syncano');
} catch (err) {
  console.error(`Bail out! cannot load the syncano client (${err.message}).`);
  console.error(`Run \`npm install\` in ${__dirname} first.`);
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length !== 3 || args.some((a) => !a)) {
  const me = path.basename(process.argv[1] || 'syncano_client_test.js');
  console.error(`usage: node ${me} <baseUrl> <adminEmail> <adminPassword>`);
  console.error(`  e.g. node ${me} http://127.0.0.1:8080 admin@example.com 'long-password'`);
  process.exit(2);
}
const baseUrl = args[0].replace(/\/+$/, ''); // the client concatenates baseUrl + '/v1.1/...'
const adminEmail = args[1];
const adminPassword = args[2];

const CALL_TIMEOUT_MS = Number(process.env.COMPAT_CALL_TIMEOUT_MS) || 15000;
const RUN_TIMEOUT_MS = Number(process.env.COMPAT_RUN_TIMEOUT_MS) || 5 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// Helpers

class CallTimeout extends Error {
  constructor(what) {
    super(`${what}: no answer within ${CALL_TIMEOUT_MS} ms`);
    this.name = 'CallTimeout';
  }
}

const json = (value) => {
  try {
    return JSON.stringify(value);
  } catch (err) {
    return String(value);
  }
};

// Runs one client call with a timeout. `thunk` returns a QuerySet, a (bluebird) promise or a
// value. QuerySets are turned into real promises with `.then(x => x)`: awaiting a QuerySet
// directly never rejects.
async function call(what, thunk) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new CallTimeout(what)), CALL_TIMEOUT_MS);
  });
  try {
    // Never hand a QuerySet to resolve()/await: they call then(onOk, onErr) and the QuerySet
    // drops onErr. Its one-argument then() returns a real (bluebird) promise.
    const value = thunk();
    const pending = value && typeof value.then === 'function' ? value.then((x) => x) : value;
    return await Promise.race([pending, timeout]);
  } catch (err) {
    if (err && typeof err === 'object' && err.compatCall === undefined) {
      try {
        err.compatCall = what;
      } catch (ignored) {
        // frozen error object: the step name is still printed
      }
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

// Like call(), but the call must fail with an HTTP error whose status is in `statuses`.
// Returns the client's RequestError (status, errors = response body).
async function callFails(what, thunk, statuses) {
  let result;
  try {
    result = await call(what, thunk);
  } catch (err) {
    if (err instanceof CallTimeout) throw err;
    if (!statuses.includes(err && err.status)) {
      const got = err && err.status !== undefined ? `HTTP ${err.status}` : 'an error without HTTP status';
      assert.fail(`${what}: expected HTTP ${statuses.join(' or ')}, got ${got}: ${describeError(err)}`);
    }
    return err;
  }
  assert.fail(`${what}: expected HTTP ${statuses.join(' or ')}, but the call succeeded: ${json(result)}`);
}

function describeError(err) {
  if (!err || typeof err !== 'object') return String(err);
  const parts = [];
  if (err.compatCall) parts.push(`during ${err.compatCall}`);
  if (err.name && err.name !== 'Error') parts.push(err.name);
  if (err.status !== undefined) parts.push(`HTTP ${err.status}`);
  const req = err.response && err.response.req;
  if (req && req.method && req.path) parts.push(`${req.method} ${req.path}`);
  if (err.errors !== undefined) parts.push(`response body ${json(err.errors)}`);
  if (err.code && err.name !== 'AssertionError') parts.push(err.code);
  if (err.message) parts.push(err.message);
  if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'ECONNRESET') {
    parts.push(`(is a Latchkey server running at ${baseUrl}?)`);
  }
  return parts.join(' | ');
}

const isNonEmptyString = (v) => typeof v === 'string' && v.length > 0;
const isId = (v) => Number.isInteger(v) && v > 0;

// Walks a paginated list: `firstThunk` returns the list QuerySet; follows ResultSet.next()
// while hasNext(). Returns the pages (arrays of models).
async function allPages(what, firstThunk, maxPages = 200) {
  const pages = [await call(`${what}, page 1`, firstThunk)];
  while (pages[pages.length - 1].hasNext()) {
    assert.ok(pages.length < maxPages, `${what}: still a next page after ${maxPages} pages`);
    const current = pages[pages.length - 1];
    pages.push(await call(`${what}, page ${pages.length + 1}`, () => current.next()));
  }
  return pages;
}

// ---------------------------------------------------------------------------------------------
// State shared by the steps

const suffix = crypto.randomBytes(4).toString('hex');
const S = {
  instanceName: `compat-${suffix}`, // client-side validation wants >= 5 characters
  instanceCreated: false,
  password: `Black-Mesa-${suffix}-1998`, // >= 8 characters (auth.password.min_length)
  username: 'gordon',
  extraUsernames: ['alyx', 'barney', 'eli', 'isaac', 'wallace'],
};
const anon = () => Syncano({ baseUrl });
const asAccount = () => Syncano({ baseUrl, accountKey: S.accountKey });
const asApiKey = (apiKey) => Syncano({ baseUrl, apiKey });
const asUser = (apiKey, userKey) => Syncano({ baseUrl, apiKey, userKey });

// ---------------------------------------------------------------------------------------------
// Steps

const steps = [];
const step = (name, fn) => steps.push({ name, fn });

// a. account
step('account login', async () => {
  const conn = anon();
  const account = await call('Account.login', () =>
    conn.Account.login({ email: adminEmail, password: adminPassword }),
  );
  assert.ok(isNonEmptyString(account.account_key), `no account_key in ${json(account)}`);
  S.accountKey = account.account_key;
  assert.equal(conn.getAccountKey(), S.accountKey, 'the client did not store the account key');
});

step('account get', async () => {
  const account = await call('Account.getUserDetails', () => asAccount().Account.getUserDetails());
  assert.equal(String(account.email).toLowerCase(), adminEmail.toLowerCase(), `account: ${json(account)}`);
  assert.ok(isId(account.id), `account id: ${json(account)}`);
});

// b. instance
step('instance create', async () => {
  const instance = await call('Instance.create', () =>
    asAccount().Instance.please().create({
      name: S.instanceName,
      description: 'syncano client compatibility test',
    }),
  );
  S.instanceCreated = true;
  assert.equal(instance.name, S.instanceName);
  assert.equal(instance.description, 'syncano client compatibility test');
  assert.equal(typeof instance.links, 'object', `instance has no links: ${json(instance)}`);
});

step('instance get', async () => {
  const instance = await call('Instance.get', () =>
    asAccount().Instance.please().get({ name: S.instanceName }),
  );
  assert.equal(instance.name, S.instanceName);
});

step('instance list contains it', async () => {
  const pages = await allPages('Instance.list', () => asAccount().Instance.please().list());
  const names = pages.flatMap((page) => page.map((i) => i.name));
  assert.ok(names.includes(S.instanceName), `${S.instanceName} not in ${json(names)}`);
});

// c. API keys
step('api key create (allow_user_create)', async () => {
  const key = await call('ApiKey.create allow_user_create', () =>
    asAccount().ApiKey.please().create({
      instanceName: S.instanceName,
      description: 'compat: user sign-up',
      allow_user_create: true,
    }),
  );
  assert.ok(isId(key.id), `api key id: ${json(key)}`);
  assert.ok(isNonEmptyString(key.api_key), `no api_key in ${json(key)}`);
  assert.equal(key.allow_user_create, true);
  S.createKey = key.api_key;
  S.createKeyId = key.id;
});

step('api key create (plain)', async () => {
  const key = await call('ApiKey.create plain', () =>
    asAccount().ApiKey.please().create({ instanceName: S.instanceName, description: 'compat: plain' }),
  );
  assert.ok(isId(key.id), `api key id: ${json(key)}`);
  assert.ok(isNonEmptyString(key.api_key), `no api_key in ${json(key)}`);
  assert.notEqual(key.api_key, S.createKey, 'two API keys with the same value');
  assert.ok(!key.allow_user_create, `plain key has allow_user_create: ${json(key)}`);
  assert.ok(!key.ignore_acl, `plain key has ignore_acl: ${json(key)}`);
  S.plainKey = key.api_key;
  S.plainKeyId = key.id;
});

// d. user create
step('user create (allow_user_create key)', async () => {
  const user = await call('User.create', () =>
    asApiKey(S.createKey).User.please().create({
      instanceName: S.instanceName,
      username: S.username,
      password: S.password,
    }),
  );
  assert.ok(isId(user.id), `user id: ${json(user)}`);
  assert.equal(user.username, S.username);
  assert.ok(isNonEmptyString(user.user_key), `no user_key in ${json(user)}`);
  assert.equal(user.password, undefined, 'the response echoes the password');
  assert.equal(typeof user.links, 'object', `user has no links: ${json(user)}`);
  assert.ok(user.links !== null, 'user links is null');
  const profile = user.profile;
  assert.ok(profile && typeof profile === 'object', `user has no profile: ${json(user)}`);
  assert.ok(isId(profile.id), `profile id: ${json(profile)}`);
  assert.equal(profile.owner, user.id, `profile owner: ${json(profile)}`);
  assert.ok(Number.isInteger(profile.revision), `profile revision: ${json(profile)}`);
  assert.equal(typeof profile.links, 'object', `profile has no links: ${json(profile)}`);
  S.userId = user.id;
  S.userKey = user.user_key;
  S.profileId = profile.id;
  S.profileRevision = profile.revision;
});

// e. user login
step('user login (plain key)', async () => {
  const conn = asApiKey(S.plainKey);
  const user = await call('User.login', () =>
    conn.User.please().login(
      { instanceName: S.instanceName },
      { username: S.username, password: S.password },
    ),
  );
  assert.equal(user.user_key, S.userKey, 'user_key changed across logins');
  assert.equal(user.id, S.userId);
  assert.equal(user.username, S.username);
  assert.equal(conn.getUserKey(), S.userKey, 'the client did not store the user key');
});

step('user login with a wrong password is refused', async () => {
  await callFails(
    'User.login wrong password',
    () =>
      asApiKey(S.plainKey).User.please().login(
        { instanceName: S.instanceName },
        { username: S.username, password: `${S.password}-wrong` },
      ),
    [400, 401, 403],
  );
});

// f. user detail with the user key (the client sends GET .../user/ for apiKey+userKey)
step('user detail (api key + user key)', async () => {
  const user = await call('User.get as user', () =>
    asUser(S.plainKey, S.userKey).User.please().get({ instanceName: S.instanceName, id: S.userId }),
  );
  assert.equal(user.username, S.username);
  assert.equal(user.id, S.userId);
  assert.equal(user.user_key, S.userKey);
});

// g. profile schema
step('profile schema change (account key)', async () => {
  const conn = asAccount();
  const cls = await call('Class.update user_profile', () =>
    conn.Class.please().update(
      { instanceName: S.instanceName, name: 'user_profile' },
      { schema: [{ name: 'nick', type: 'string' }, { name: 'age', type: 'integer' }] },
    ),
  );
  assert.equal(cls.name, 'user_profile');
  const fetched = await call('Class.get user_profile', () =>
    conn.Class.please().get({ instanceName: S.instanceName, name: 'user_profile' }),
  );
  assert.ok(Array.isArray(fetched.schema), `schema is not an array: ${json(fetched.schema)}`);
  const types = Object.fromEntries(fetched.schema.map((f) => [f.name, f.type]));
  assert.equal(types.nick, 'string', `schema: ${json(fetched.schema)}`);
  assert.equal(types.age, 'integer', `schema: ${json(fetched.schema)}`);
});

// h. profile update as the user
step('profile update (api key + user key)', async () => {
  const conn = asUser(S.plainKey, S.userKey);
  const where = { instanceName: S.instanceName, className: 'user_profile', id: S.profileId };
  const updated = await call('DataObject.update profile', () =>
    conn.DataObject.please().update(where, { nick: 'freeman', age: 27 }),
  );
  assert.equal(updated.nick, 'freeman');
  assert.equal(updated.age, 27);
  const profile = await call('DataObject.get profile', () => conn.DataObject.please().get(where));
  assert.equal(profile.id, S.profileId);
  assert.equal(profile.owner, S.userId);
  assert.equal(profile.nick, 'freeman');
  assert.equal(profile.age, 27);
  assert.ok(
    Number.isInteger(profile.revision) && profile.revision > S.profileRevision,
    `revision did not increase: ${S.profileRevision} -> ${profile.revision}`,
  );
  S.profileRevision = profile.revision;
});

step('profile update with a wrong type is rejected', async () => {
  const conn = asUser(S.plainKey, S.userKey);
  const where = { instanceName: S.instanceName, className: 'user_profile', id: S.profileId };
  const err = await callFails(
    'DataObject.update age="old"',
    () => conn.DataObject.please().update(where, { age: 'old' }),
    [400],
  );
  assert.ok(
    err.errors && typeof err.errors === 'object' && 'age' in err.errors,
    `the error is not keyed by the field "age": ${json(err.errors)}`,
  );
  const profile = await call('DataObject.get profile', () => conn.DataObject.please().get(where));
  assert.equal(profile.age, 27, 'a rejected update changed the profile');
  assert.equal(profile.revision, S.profileRevision, 'a rejected update changed the revision');
});

// i. groups
step('group create', async () => {
  const group = await call('Group.create', () =>
    asAccount().Group.please().create({ instanceName: S.instanceName, label: 'scientists' }),
  );
  assert.ok(isId(group.id), `group id: ${json(group)}`);
  assert.equal(group.label, 'scientists');
  S.groupId = group.id;
});

step('group add user', async () => {
  const user = await call('Group.addUser', () =>
    asAccount().Group.please().addUser(
      { instanceName: S.instanceName, id: S.groupId },
      { user: S.userId },
    ),
  );
  // The client reads `response.user`: a flat response would give a model without username.
  assert.equal(user.id, S.userId, `addUser response (read from "user"): ${json(user)}`);
  assert.equal(user.username, S.username);
});

step('group users contains the user', async () => {
  const users = await call('Group.users', () =>
    asAccount().Group.please().users({ instanceName: S.instanceName, id: S.groupId }),
  );
  const found = users.filter((u) => u.id === S.userId);
  assert.equal(found.length, 1, `group users (read from objects[].user): ${json(users)}`);
  assert.equal(found[0].username, S.username);
});

step('user groups contains the group', async () => {
  const groups = await call('User.getGroups', () =>
    asAccount().User.please().getGroups({ instanceName: S.instanceName, user: S.userId }),
  );
  const found = groups.filter((g) => g.id === S.groupId);
  assert.equal(found.length, 1, `user groups (read from objects[].group): ${json(groups)}`);
  assert.equal(found[0].label, 'scientists');
});

step('group add user twice is 400', async () => {
  await callFails(
    'Group.addUser again',
    () =>
      asAccount().Group.please().addUser(
        { instanceName: S.instanceName, id: S.groupId },
        { user: S.userId },
      ),
    [400],
  );
});

// j. reset key
step('user reset key (account key)', async () => {
  const user = await call('User.resetKey', () =>
    asAccount().User.please().resetKey({ instanceName: S.instanceName, id: S.userId }),
  );
  assert.ok(isNonEmptyString(user.user_key), `no user_key in ${json(user)}`);
  assert.notEqual(user.user_key, S.userKey, 'reset_key returned the old user_key');
  S.oldUserKey = S.userKey;
  S.userKey = user.user_key;
});

step('old user key is refused', async () => {
  await callFails(
    'User.get with the old user key',
    () =>
      asUser(S.plainKey, S.oldUserKey).User.please().get({ instanceName: S.instanceName, id: S.userId }),
    [401, 403],
  );
});

step('new user key works, login returns it', async () => {
  const user = await call('User.get with the new user key', () =>
    asUser(S.plainKey, S.userKey).User.please().get({ instanceName: S.instanceName, id: S.userId }),
  );
  assert.equal(user.username, S.username);
  const login = await call('User.login after reset', () =>
    asApiKey(S.plainKey).User.please().login(
      { instanceName: S.instanceName },
      { username: S.username, password: S.password },
    ),
  );
  assert.equal(login.user_key, S.userKey, 'login does not return the reset user_key');
});

// k. listing with pagination
step(`create ${S.extraUsernames.length} more users`, async () => {
  const conn = asApiKey(S.createKey);
  S.allUsernames = [S.username];
  for (const username of S.extraUsernames) {
    const user = await call(`User.create ${username}`, () =>
      conn.User.please().create({ instanceName: S.instanceName, username, password: S.password }),
    );
    assert.equal(user.username, username);
    S.allUsernames.push(username);
  }
});

step('user list page shape (raw)', async () => {
  const body = await call('User.list pageSize(2) raw', () =>
    asAccount().User.please().list({ instanceName: S.instanceName }).pageSize(2).raw(),
  );
  assert.ok(Array.isArray(body.objects), `no objects array: ${json(body)}`);
  assert.equal(body.objects.length, 2, `page_size=2 gave ${body.objects.length} objects`);
  // The client's hasNext()/hasPrev() test `!== null`: the keys must be present.
  assert.ok('next' in body && 'prev' in body, `next/prev missing: ${json(Object.keys(body))}`);
  assert.equal(body.prev, null, 'first page has a prev link');
  assert.ok(isNonEmptyString(body.next), `first page of 6 users has no next link: ${json(body.next)}`);
  assert.ok(
    body.next.startsWith('/') || body.next.startsWith(baseUrl),
    `next must be a path or start with the base URL ${baseUrl}: ${body.next}`,
  );
});

step('user list pagination (pageSize(2) + next())', async () => {
  const pages = await allPages('User.list pageSize(2)', () =>
    asAccount().User.please().list({ instanceName: S.instanceName }).pageSize(2),
  );
  pages.forEach((page, i) => assert.ok(page.length <= 2, `page ${i + 1} has ${page.length} users`));
  assert.ok(pages.length >= 3, `6 users in pages of 2 came in ${pages.length} page(s)`);
  const seen = pages.flatMap((page) => page.map((u) => u.username));
  assert.deepEqual([...seen].sort(), [...S.allUsernames].sort(), `users seen: ${json(seen)}`);
});

step('user list all() with page_size 2', async () => {
  const conn = asAccount();
  let all;
  const users = await call('User.all page_size=2', () => {
    all = conn.User.please().all({ instanceName: S.instanceName }, { page_size: 2 }, false);
    // After an HTTP error the client's page loop re-requests the same page at once, forever,
    // and emits 'error' only once stopped. Stop it at the first failed request instead.
    let failure = null;
    const request = all.request;
    all.request = function requestOnce(...rest) {
      return request.apply(this, rest).catch((err) => {
        failure = failure || err;
        this.stop();
        throw err;
      });
    };
    const done = new Promise((resolve, reject) => {
      all.on('stop', (result) => (failure ? reject(failure) : resolve(result)));
      all.on('error', (err) => reject(failure || err));
      all.on('timeout', () => reject(new Error('the client timed out')));
    });
    all.start();
    return done;
  }).finally(() => {
    if (all) all.stop();
  });
  const seen = users.map((u) => u.username);
  assert.deepEqual([...seen].sort(), [...S.allUsernames].sort(), `users seen: ${json(seen)}`);
});

// l. API key list and reset
step('api key list', async () => {
  const pages = await allPages('ApiKey.list', () =>
    asAccount().ApiKey.please().list({ instanceName: S.instanceName }),
  );
  const ids = pages.flatMap((page) => page.map((k) => k.id));
  assert.ok(ids.includes(S.createKeyId) && ids.includes(S.plainKeyId), `api key ids: ${json(ids)}`);
});

step('api key reset', async () => {
  const key = await call('ApiKey.reset', () =>
    asAccount().ApiKey.please().reset({ instanceName: S.instanceName, id: S.plainKeyId }),
  );
  assert.equal(key.id, S.plainKeyId);
  assert.ok(isNonEmptyString(key.api_key), `no api_key in ${json(key)}`);
  assert.notEqual(key.api_key, S.plainKey, 'reset_key returned the old api_key');
  S.oldPlainKey = S.plainKey;
  S.plainKey = key.api_key;
});

step('old api key is refused, new one works', async () => {
  const credentials = { username: S.username, password: S.password };
  await callFails(
    'User.login with the old api key',
    () => asApiKey(S.oldPlainKey).User.please().login({ instanceName: S.instanceName }, credentials),
    [401, 403],
  );
  const user = await call('User.login with the new api key', () =>
    asApiKey(S.plainKey).User.please().login({ instanceName: S.instanceName }, credentials),
  );
  assert.equal(user.user_key, S.userKey);
});

// m. cleanup
step('instance delete', async () => {
  const conn = asAccount();
  await call('Instance.delete', () => conn.Instance.please().delete({ name: S.instanceName }));
  S.instanceCreated = false;
  await callFails(
    'Instance.get after delete',
    () => conn.Instance.please().get({ name: S.instanceName }),
    [404],
  );
});

// ---------------------------------------------------------------------------------------------
// Runner

async function cleanup() {
  if (!S.instanceCreated || !S.accountKey) return;
  try {
    await call('cleanup Instance.delete', () =>
      asAccount().Instance.please().delete({ name: S.instanceName }),
    );
    console.log(`# cleanup: deleted instance ${S.instanceName}`);
  } catch (err) {
    console.log(`# cleanup: could not delete instance ${S.instanceName}: ${describeError(err)}`);
  }
}

async function main() {
  const watchdog = setTimeout(() => {
    console.log(`Bail out! the whole run took more than ${RUN_TIMEOUT_MS} ms`);
    process.exit(1);
  }, RUN_TIMEOUT_MS);
  watchdog.unref();

  console.log(`# syncano client compatibility test against ${baseUrl}, instance ${S.instanceName}`);
  console.log(`1..${steps.length}`);
  for (const [index, { name, fn }] of steps.entries()) {
    const n = index + 1;
    try {
      await fn();
    } catch (err) {
      console.log(`not ok ${n} - ${name}`);
      for (const line of describeError(err).split('\n')) console.log(`#   ${line}`);
      await cleanup();
      console.error(`FAILED at step ${n} (${name}): ${describeError(err).split('\n')[0]}`);
      process.exit(1);
    }
    console.log(`ok ${n} - ${name}`);
  }
  console.log(`# all ${steps.length} steps passed`);
  process.exit(0);
}

main().catch((err) => {
  console.error(`Bail out! ${describeError(err)}`);
  process.exit(1);
});
