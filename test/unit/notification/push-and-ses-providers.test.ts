import { describe, expect, it } from 'vitest';
import {
  TENANT_PROVIDERS,
  contactKindOf,
  isValidAddress,
  normalizeAddress,
  validateSettings,
} from '../../../src/domain/notification/index.js';
import { contactAddress } from '../../../src/domain/notification/preferences.js';
import { maskAddress } from '../../../src/domain/notification/masking.js';

const TOKEN = 'dXkT000001:APA91bH-contract-token_' + 'x'.repeat(100);

describe('the push channel: registration tokens as addresses', () => {
  it('takes an FCM registration token and refuses what is not one', () => {
    expect(contactKindOf('push')).toBe('device');
    expect(isValidAddress('push', TOKEN)).toBe(true);
    expect(isValidAddress('push', ` ${TOKEN} `)).toBe(true);
    expect(normalizeAddress('push', ` ${TOKEN} `)).toBe(TOKEN);
    for (const bad of ['ada@example.com', '+420601123456', 'short:token', `${TOKEN} with spaces`, `${TOKEN}\u0000`]) {
      expect(isValidAddress('push', bad), bad).toBe(false);
    }
  });

  it('a contact has no push address (no route registers a device yet), so a customer on push is missing-contact', () => {
    expect(contactAddress({ email: 'ada@example.com', phone: '+420601123456' }, 'push')).toBeUndefined();
  });

  it('masks a token in the audit trail to its first and last four characters', () => {
    expect(maskAddress('push', TOKEN)).toBe('dXkT****xxxx');
    expect(maskAddress('push', TOKEN)).not.toContain('APA91');
  });
});

describe('the realtime channel: Pusher channel names as addresses', () => {
  it('takes the characters Pusher allows, at most 164, and no contact has one', () => {
    expect(isValidAddress('realtime', 'front-desk')).toBe(true);
    expect(isValidAddress('realtime', 'private-offers;tenant=1@eu')).toBe(true);
    for (const bad of ['front desk', 'ä-offers', 'x'.repeat(165), ''])
      expect(isValidAddress('realtime', bad), bad).toBe(false);
    expect(contactAddress({ email: 'ada@example.com' }, 'realtime')).toBeUndefined();
    expect(maskAddress('realtime', 'front-desk')).toBe('front-desk');
  });

  it('pusher needs app id, key and cluster as settings and the secret as credential', () => {
    const pusher = TENANT_PROVIDERS.pusher!;
    expect(pusher.channel).toBe('realtime');
    const settings = { appId: '1234567', key: 'a1b2c3d4e5f6a7b8c9d0', cluster: 'eu' };
    expect(() => validateSettings('providers[0]', pusher, settings)).not.toThrow();
    expect(() => validateSettings('providers[0]', pusher, { ...settings, appId: 'app' })).toThrow(/Invalid appId/);
    expect(() => validateSettings('providers[0]', pusher, { appId: '1', key: settings.key })).toThrow(/cluster/);
    expect(Object.keys(pusher.credentials)).toEqual(['secret']);
  });
});

describe('tenant providers ses and fcm: settings checked before they are recorded', () => {
  it('ses needs a region; refuses a region name that is not one', () => {
    const ses = TENANT_PROVIDERS.ses!;
    expect(ses.channel).toBe('email');
    expect(() => validateSettings('providers[0]', ses, { region: 'eu-west-1' })).not.toThrow();
    expect(() => validateSettings('providers[0]', ses, {})).toThrow(/region is required/);
    expect(() => validateSettings('providers[0]', ses, { region: 'Frankfurt' })).toThrow(/Invalid region/);
    expect(ses.credentials.accessKeyId!.pattern.test('AKIAIOSFODNN7EXAMPLE')).toBe(true);
    expect(ses.credentials.secretAccessKey!.pattern.test('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')).toBe(true);
    expect(ses.credentials.secretAccessKey!.pattern.test('has spaces in it somewhere')).toBe(false);
  });

  it('fcm sends push and needs the project id and the service account; the private key is a PEM', () => {
    const fcm = TENANT_PROVIDERS.fcm!;
    expect(fcm.channel).toBe('push');
    const settings = { projectId: 'herald-contract', clientEmail: 'push@herald-contract.iam.gserviceaccount.com' };
    expect(() => validateSettings('providers[0]', fcm, settings)).not.toThrow();
    expect(() => validateSettings('providers[0]', fcm, { projectId: 'herald-contract' })).toThrow(/clientEmail/);
    expect(() => validateSettings('providers[0]', fcm, { ...settings, projectId: 'Not A Project' })).toThrow(
      /Invalid projectId/,
    );
    const pem = `-----BEGIN PRIVATE KEY-----\n${'A'.repeat(64)}\n${'B'.repeat(64)}\n-----END PRIVATE KEY-----\n`;
    expect(fcm.credentials.privateKey!.pattern.test(pem)).toBe(true);
    // As pasted from the key file's JSON: the line breaks written \n.
    expect(fcm.credentials.privateKey!.pattern.test(pem.replace(/\n/g, '\\n'))).toBe(true);
    expect(fcm.credentials.privateKey!.pattern.test('not a key')).toBe(false);
  });
});
