import { parse as parsePg } from 'pg-connection-string';
import { describe, expect, it } from 'vitest';
import { namespaceFromRemote } from '../../src/store/namespace.js';
import { redactUrl, scrubSecrets } from '../../src/store/redact-url.js';

describe('namespaceFromRemote: host and path only', () => {
  const root = '/home/me/work/app';
  it.each([
    ['https://alice:TOKEN@github.com/acme/app.git', 'github.com/acme/app'],
    ['https://alice@github.com/acme/app.git', 'github.com/acme/app'],
    ['https://x-access-token:ghp_abc%2Fdef@github.com/acme/app', 'github.com/acme/app'],
    ['git@github.com:acme/app.git', 'github.com/acme/app'],
    ['github.com:acme/app', 'github.com/acme/app'],
    ['ssh://git@github.com/acme/app.git', 'github.com/acme/app'],
    ['ssh://git@github.com:22/acme/app.git/', 'github.com/acme/app'],
    ['https://github.com/acme/app/', 'github.com/acme/app'],
    ['https://github.com/acme/app', 'github.com/acme/app'],
    ['HTTPS://GitHub.COM/acme/app.git', 'github.com/acme/app'],
    ['https://github.com:443/acme/app.git?foo=bar#frag', 'github.com/acme/app'],
    ['git://git.example.org/pub/app.git', 'git.example.org/pub/app'],
    ['git+ssh://me@git.example.org//srv/app.git', 'git.example.org/srv/app'],
    ['ssh://git@[::1]:2222/acme/app.git', '[::1]/acme/app'],
    ['git@[::1]:acme/app.git', '[::1]/acme/app'],
    ['persistent-https::https://bob:pw@git.example.org/app.git', 'git.example.org/app'],
    // A password holding '/' or '@' (not valid in a URL, but it must not leak either).
    ['https://alice:TO/K@EN@github.com/acme/app.git', 'github.com/acme/app'],
    ['ssh://git@host/~alice/app.git', 'host/~alice/app'],
    ['git@host:~alice/app.git', 'host/~alice/app'],
  ])('%s → %s', (remote, expected) => {
    expect(namespaceFromRemote(remote, root)).toBe(expected);
  });

  it('the three forms of issue 10 are one namespace', () => {
    const forms = ['https://alice:TOKEN@github.com/acme/app.git', 'git@github.com:acme/app.git', 'https://github.com/acme/app'];
    expect(new Set(forms.map((f) => namespaceFromRemote(f, root)))).toEqual(new Set(['github.com/acme/app']));
  });

  it.each([
    ['/srv/git/app.git', '/srv/git/app'],
    ['/srv/git/app.git/', '/srv/git/app'],
    ['/srv/git/app/.git', '/srv/git/app'],
    ['/srv//git/app', '/srv/git/app'],
    ['../app.git', '/home/me/work/app'],
    ['./mirror', '/home/me/work/app/mirror'],
    ['file:///srv/git/app.git', '/srv/git/app'],
    ['file://localhost/srv/git/my%20app.git/', '/srv/git/my app'],
  ])('local remote %s → %s', (remote, expected) => {
    expect(namespaceFromRemote(remote, root)).toBe(expected);
  });

  it('keeps nothing of a credential in any form', () => {
    for (const remote of [
      'https://alice:TOKEN@github.com/acme/app.git',
      'https://TOKEN@github.com/acme/app.git',
      'ssh://alice:TOKEN@github.com/acme/app.git',
      'alice:TOKEN@github.com:acme/app.git',
      'https://alice:TO%40KEN@github.com/acme/app.git',
    ]) {
      const ns = namespaceFromRemote(remote, root);
      expect(ns).not.toMatch(/TOKEN|TO%40KEN|alice/);
      expect(ns).toBe('github.com/acme/app');
    }
  });

  it('is empty when nothing names a repository', () => {
    expect(namespaceFromRemote('', root)).toBe('');
    expect(namespaceFromRemote('https://', root)).toBe('');
  });
});

describe('redactUrl: no password survives, whatever the form', () => {
  it.each([
    ['postgres://u:secret@db.internal:5432/harn', 'postgres://u:***@db.internal:5432/harn', 'secret'],
    ['postgresql://u:secret@db/harn?sslmode=require', 'postgresql://u:***@db/harn?sslmode=require', 'secret'],
    ['postgres://u@db/harn?password=secret', 'postgres://u@db/harn?password=***', 'secret'],
    ['postgres://u@db/harn?sslmode=disable&password=secret&application_name=x', 'postgres://u@db/harn?sslmode=disable&password=***&application_name=x', 'secret'],
    ['postgres://u@db/harn?sslpassword=secret', 'postgres://u@db/harn?sslpassword=***', 'secret'],
    ['postgres://u:s%2Fe%40c%3Aret@db/harn', 'postgres://u:***@db/harn', 's%2Fe%40c%3Aret'],
    ['postgres://u:se:cret@db/harn', 'postgres://u:***@db/harn', 'cret'],
    ['postgres://u:se@cret@db/harn', 'postgres://u:***@db/harn', 'cret'],
    ['postgres://u:se/cret@db/harn', 'postgres://u:***@db/harn', 'cret'],
    ['postgres://u:123/secret@db/harn', 'postgres://u:***@db/harn', 'secret'],
    ['postgres://u:se?cret@db/harn', 'postgres://u:***@db/harn', 'cret'],
    ['postgres://u:se#cret@db/harn', 'postgres://u:***@db/harn', 'cret'],
    ['postgres://u:p@ss/wo@rd@db/harn?password=other', 'postgres://u:***@db/harn?password=***', 'wo@rd'],
    ['postgres://u:secret@/harn?host=/var/run/postgresql', 'postgres://u:***@/harn?host=/var/run/postgresql', 'secret'],
    ['postgres://db/harn', 'postgres://db/harn', ''],
  ])('%s', (url, expected, secret) => {
    expect(redactUrl(url)).toBe(expected);
    if (secret) expect(redactUrl(url)).not.toContain(secret);
  });

  it.each([
    ['host=db password=secret dbname=harn', 'host=db password=*** dbname=harn', 'secret'],
    ["host=db password='sec ret' user=u", 'host=db password=*** user=u', 'sec'],
    ["password = 'it\\'s secret' host=db", 'password=*** host=db', 'secret'],
    ['host=db password=sec\\ ret', 'host=db password=***', 'ret'],
    ["host=db PASSWORD='unterminated secret", 'host=db PASSWORD=***', 'secret'],
    ['host=db sslpassword=secret', 'host=db sslpassword=***', 'secret'],
  ])('libpq key=value: %s', (text, expected, secret) => {
    expect(redactUrl(text)).toBe(expected);
    expect(redactUrl(text)).not.toContain(secret);
  });

  it("hides every password pg-connection-string (the client's parser) finds", () => {
    const urls = [
      'postgres://u:secret1@db/harn',
      'postgres://u:p%40ss%2Fword@db:5433/harn',
      'postgres://u@db/harn?password=secret2',
      'postgres://u:sec%20ret@db/harn',
      'postgres://u:sec ret@db/harn',
      'postgres://u:a%zzb@db/harn',
      'postgres://u:se:cret3@db/harn',
      'postgres://u:se@cret4@db/harn',
      'postgres://u:secret5@/harn?host=/tmp',
      'postgresql://u:secret6@[::1]:5432/harn',
      'postgres://u:x@db/harn?password=secret7',
    ];
    for (const url of urls) {
      const password = parsePg(url).password;
      expect(password, url).toBeTruthy();
      const redacted = redactUrl(url);
      for (const form of new Set([password as string, encodeURIComponent(password as string)])) expect(redacted, url).not.toContain(form);
    }
  });

  it('leaves text without a password alone', () => {
    expect(redactUrl('file')).toBe('file');
    expect(redactUrl('mysql')).toBe('mysql');
  });
});

describe('scrubSecrets', () => {
  it("removes a URL's password, raw and decoded, from any message", () => {
    const url = 'postgres://u:p%40ssword@db/harn?password=other-secret';
    expect(scrubSecrets('failed for p@ssword and p%40ssword and other-secret', url)).toBe('failed for *** and *** and ***');
    expect(scrubSecrets("auth failed for 'sec ret'", "host=db password='sec ret'")).toBe('auth failed for ***');
  });
});
