import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveStaticPath } from '../../../electron/shared-node/static-path';
import { planAppRequest } from '../../../electron/main/security/app-request';

const root = path.resolve('/opt/sutazai/dist/renderer');

function isInside(file: string): boolean {
  return file === root || file.startsWith(root + path.sep);
}

describe('resolveStaticPath', () => {
  it.each([
    ['/index.html', 'index.html'],
    ['/', 'index.html'],
    ['', 'index.html'],
    ['/app.js', 'app.js'],
    ['/assets/logo.png?v=3#top', path.join('assets', 'logo.png')],
    ['/fonts/Inter%20Var.woff2', path.join('fonts', 'Inter Var.woff2')],
  ])('maps %s to a file in the renderer folder', (request, relative) => {
    expect(resolveStaticPath(root, request)).toBe(path.join(root, relative));
  });

  it.each([
    '/../etc/passwd',
    '/assets/../../etc/passwd',
    '/%2e%2e/etc/passwd',
    '/%2E%2E/%2E%2E/etc/passwd',
    '/..%2fetc%2fpasswd',
    '/..%2F..%2Fetc%2Fpasswd',
    '/index.html%00.png',
    '/%00',
    '/..\\..\\etc\\passwd',
    '/%5c..%5c..%5cetc%5cpasswd',
    '/assets\\app.js',
    '/C:\\Windows\\win.ini',
    '/%E0%A4%A',
  ])('refuses %s', (request) => {
    expect(resolveStaticPath(root, request)).toBeNull();
  });

  it.each(['/etc/passwd', '//etc/passwd', '/%2fetc%2fpasswd', '///etc/passwd', '/%252e%252e/etc/passwd'])(
    'keeps %s inside the renderer folder instead of reading it from the root',
    (request) => {
      const resolved = resolveStaticPath(root, request);
      expect(resolved).not.toBeNull();
      expect(isInside(resolved ?? '/')).toBe(true);
      expect(resolved).not.toBe('/etc/passwd');
    },
  );
});

describe('the app protocol', () => {
  it('serves files of the renderer folder with their content type', () => {
    expect(planAppRequest(root, { method: 'GET', url: 'app://renderer/index.html' })).toEqual({
      kind: 'file',
      filePath: path.join(root, 'index.html'),
      contentType: 'text/html; charset=utf-8',
    });
    expect(planAppRequest(root, { method: 'HEAD', url: 'app://renderer/app.css' })).toMatchObject({
      kind: 'file',
      contentType: 'text/css; charset=utf-8',
    });
    expect(planAppRequest(root, { method: 'get', url: 'app://renderer/app.js' })).toMatchObject({
      filePath: path.join(root, 'app.js'),
      contentType: 'text/javascript; charset=utf-8',
    });
  });

  it.each([
    'app://evil/index.html',
    'app://renderer.evil/index.html',
    'app://renderer:1234/index.html',
    'app://user@renderer/index.html',
    'https://renderer/index.html',
    'app://renderer/..%2f..%2fetc%2fpasswd',
    'app://renderer/index.html%00',
    'app://renderer/%5c..%5cetc%5cpasswd',
    'not a url',
  ])('answers 404 for %s', (url) => {
    expect(planAppRequest(root, { method: 'GET', url })).toEqual({ kind: 'refuse', status: 404 });
  });

  it.each(['app://renderer/../../../etc/passwd', 'app://renderer/%2e%2e/%2e%2e/etc/passwd'])(
    'keeps %s, whose dot segments the URL parser folds away, inside the renderer folder',
    (url) => {
      const plan = planAppRequest(root, { method: 'GET', url });
      expect(plan).toEqual({ kind: 'file', filePath: path.join(root, 'etc', 'passwd'), contentType: 'application/octet-stream' });
    },
  );

  it.each(['POST', 'PUT', 'DELETE', 'OPTIONS'])('answers 405 to %s', (method) => {
    expect(planAppRequest(root, { method, url: 'app://renderer/index.html' })).toEqual({ kind: 'refuse', status: 405 });
  });
});
