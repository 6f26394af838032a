import { afterAll, beforeAll } from 'vitest';
import { TWILIO } from './herald-harness.js';
import { startSmtpTestServer, type SmtpTestServer } from './smtp-test-server.js';
import { startTwilioStandIn, type TwilioStandIn } from './twilio-stand-in.js';

export interface MailAndSmsServers {
  /** The real SMTP server (smtp-server), as Herald's SMTP_URL. */
  readonly smtp: SmtpTestServer;
  /** The Twilio stand-in, validating requests against Twilio's published description, as TWILIO_API_URL. */
  readonly twilio: TwilioStandIn;
}

/**
 * The SMTP server and the Twilio stand-in of one test file: started before its first test, closed after its last.
 * Read them through the returned object (`servers.smtp`) inside tests and hooks, not before they have started.
 */
export function mailAndSmsServers(): MailAndSmsServers {
  const servers = {} as { smtp: SmtpTestServer; twilio: TwilioStandIn };
  beforeAll(async () => {
    servers.smtp = await startSmtpTestServer();
    servers.twilio = await startTwilioStandIn({ accountSid: TWILIO.accountSid, authToken: TWILIO.authToken });
  });
  afterAll(async () => {
    await servers.smtp?.close();
    await servers.twilio?.close();
  });
  return servers;
}

/** What each recipient received: the Twilio message SIDs per phone number, the Message-IDs per email recipient. */
export function receivedByRecipient(servers: MailAndSmsServers): {
  readonly smsByNumber: ReadonlyMap<string, string[]>;
  readonly emailsByRecipient: ReadonlyMap<string, string[]>;
} {
  const smsByNumber = new Map<string, string[]>();
  for (const m of servers.twilio.messages)
    smsByNumber.set(m.resource.to, [...(smsByNumber.get(m.resource.to) ?? []), m.resource.sid]);
  const emailsByRecipient = new Map<string, string[]>();
  for (const m of servers.smtp.messages) {
    const to = m.envelope.rcptTo[0]!;
    emailsByRecipient.set(to, [...(emailsByRecipient.get(to) ?? []), m.messageId ?? '(none)']);
  }
  return { smsByNumber, emailsByRecipient };
}
