import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  calendlySourceDecider,
  type CalendlySourceState,
  type ConfigureCalendlySource,
} from '../../../src/domain/booking/calendly-source.decider.js';
import { ValidationError } from '../../../src/domain/shared/errors.js';
import { isValidCalendlySignature, parseCalendlySignature } from '../../../src/infrastructure/channels/signatures.js';

const sealed = { v: 1, keyId: 'k1', iv: 'iv', ciphertext: 'ct', tag: 'tag' } as const;
const configure = (overrides: Partial<ConfigureCalendlySource['data']> = {}): ConfigureCalendlySource => ({
  type: 'ConfigureCalendlySource',
  data: {
    tenantId: 'spa',
    sealed,
    fingerprint: 'fp-1',
    eventTypes: [{ eventTypeUri: 'https://api.calendly.com/event_types/AAAA', serviceId: 'sauna' }],
    at: '2030-01-01T00:00:00.000Z',
    by: 'key:admin',
    ...overrides,
  },
});
const fold = (...commands: ConfigureCalendlySource[]): CalendlySourceState =>
  commands.reduce(
    (state, command) =>
      calendlySourceDecider.decide(command, state).reduce((s, e) => calendlySourceDecider.evolve(s, e), state),
    calendlySourceDecider.initialState(),
  );

describe('Calendly source decider', () => {
  it('records a configuration; the same key and mappings again change nothing, another key is a new configuration', () => {
    const state = fold(configure());
    expect(state.status).toBe('configured');
    expect(calendlySourceDecider.decide(configure({ at: '2030-01-02T00:00:00.000Z' }), state)).toEqual([]);
    expect(calendlySourceDecider.decide(configure({ fingerprint: 'fp-2' }), state)).toHaveLength(1);
  });

  it('refuses mappings that cannot work, naming the field', () => {
    const refused = (eventTypes: ConfigureCalendlySource['data']['eventTypes']) => {
      try {
        calendlySourceDecider.decide(configure({ eventTypes }), calendlySourceDecider.initialState());
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).details.field;
      }
      return 'accepted';
    };
    expect(refused([])).toBe('eventTypes');
    expect(refused([{ eventTypeUri: 'http://evil.example/x', serviceId: 'sauna' }])).toBe('eventTypes.0.eventTypeUri');
    const uri = 'https://api.calendly.com/event_types/AAAA';
    expect(
      refused([
        { eventTypeUri: uri, serviceId: 'sauna' },
        { eventTypeUri: uri, serviceId: 'pool' },
      ]),
    ).toBe('eventTypes.1.eventTypeUri');
    expect(refused([{ eventTypeUri: uri, serviceId: 'a+b' }])).toBe('eventTypes.0.serviceId');
  });

  it('removal only of a configured source', () => {
    const remove = { type: 'RemoveCalendlySource', data: { tenantId: 'spa', at: 'x', by: 'y' } } as const;
    expect(calendlySourceDecider.decide(remove, calendlySourceDecider.initialState())).toEqual([]);
    expect(calendlySourceDecider.decide(remove, fold(configure()))).toHaveLength(1);
  });
});

describe('Calendly-Webhook-Signature', () => {
  const key = 'signing-key-0123456789';
  const body = '{"event":"invitee.created"}';
  const v1 = createHmac('sha256', key).update(`1700000000.${body}`).digest('hex');

  it('verifies the HMAC-SHA256 over t.body and nothing else', () => {
    const parsed = parseCalendlySignature(`t=1700000000,v1=${v1}`)!;
    expect(parsed).toEqual({ timestamp: 1700000000, signatures: [v1] });
    expect(isValidCalendlySignature(key, parsed, body)).toBe(true);
    expect(isValidCalendlySignature(key, parsed, `${body} `)).toBe(false);
    expect(isValidCalendlySignature('another-key-0123456789', parsed, body)).toBe(false);
    expect(isValidCalendlySignature(key, { ...parsed, timestamp: 1700000001 }, body)).toBe(false);
  });

  it('rejects malformed headers without throwing', () => {
    for (const header of ['', 't=1', `v1=${v1}`, `t=abc,v1=${v1}`, 't=1,v1=xyz', `t=1;v1=${v1}`, 'x'.repeat(600)]) {
      expect(parseCalendlySignature(header), header).toBeNull();
    }
  });
});
