import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { HttpFailure, refusedUrl, sendHttp } from '../../../src/infrastructure/calendars/guarded-http.js';
import { createSecretBox } from '../../../src/infrastructure/crypto/secret-box.js';

const production = { allowLoopback: false, allowHttp: false };

describe('the feed address guard', () => {
  it('fetches https from public addresses only', () => {
    expect(refusedUrl(new URL('https://calendar.google.com/calendar/ical/x/basic.ics'), production)).toBeNull();
    expect(refusedUrl(new URL('https://93.184.215.14/feed.ics'), production)).toBeNull();
    for (const address of [
      'http://calendar.example.com/feed.ics',
      'https://user:pw@calendar.example.com/feed.ics',
      'https://127.0.0.1/feed.ics',
      'https://[::1]/feed.ics',
      'https://10.0.0.8/feed.ics',
      'https://192.168.1.1/feed.ics',
      'https://169.254.169.254/latest/meta-data',
      'https://[::ffff:10.0.0.1]/feed.ics',
      'https://[fd00::1]/feed.ics',
      'https://100.64.0.1/feed.ics',
    ]) {
      expect(refusedUrl(new URL(address), production), address).not.toBeNull();
    }
    expect(refusedUrl(new URL('http://127.0.0.1:8080/feed.ics'), { allowLoopback: true, allowHttp: true })).toBeNull();
  });

  it('refuses a host name that resolves to loopback, before any request reaches it', async () => {
    let reached = 0;
    const server = createServer((_request, response) => {
      reached++;
      response.end('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const attempt = sendHttp({
        method: 'GET',
        url: new URL(`http://localhost:${port}/feed.ics`),
        limits: { timeoutMs: 2000, maxBytes: 1024, maxRedirects: 0 },
        guard: { allowLoopback: false, allowHttp: true },
      });
      await expect(attempt).rejects.toBeInstanceOf(HttpFailure);
      await expect(attempt).rejects.toMatchObject({ code: 'forbidden-address' });
      expect(reached).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the secret box', () => {
  it('seals so that only the same key and context open it', () => {
    const box = createSecretBox(Buffer.alloc(32, 7));
    const sealed = box.seal('https://calendar.example.com/private-abc/basic.ics', 'tenant-a|calendar|cal-1');
    expect(JSON.stringify(sealed)).not.toContain('private-abc');
    expect(box.open(sealed, 'tenant-a|calendar|cal-1')).toBe('https://calendar.example.com/private-abc/basic.ics');
    expect(() => box.open(sealed, 'tenant-b|calendar|cal-1')).toThrow();
    expect(() => createSecretBox(Buffer.alloc(32, 8)).open(sealed, 'tenant-a|calendar|cal-1')).toThrow();
  });
});
