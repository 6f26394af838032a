import { z } from 'zod';
import { CHANNELS, WORKFLOW_EVENTS } from '../../../domain/notification/index.js';
import { id, line, multiline } from './common.js';

const MAX_MINUTES = 60 * 24 * 60;

export const workflowTriggerSchema = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('event'),
      event: z.enum(WORKFLOW_EVENTS),
      cancelledBy: z.enum(['customer', 'staff']).optional().describe('reservation-cancelled only.'),
    }),
    z.strictObject({
      type: z.literal('time'),
      anchor: z.enum(['start', 'end']),
      direction: z.enum(['before', 'after']),
      minutes: z.int().min(1).max(MAX_MINUTES),
    }),
  ])
  .meta({ id: 'WorkflowTrigger' });

const texts = { subject: line(200).optional().describe('Email only.'), text: multiline(4000) };

export const workflowMessageSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('standard') }).describe("Herald's own text of the trigger's kind."),
    z
      .strictObject({
        type: z.literal('custom'),
        ...texts,
        translations: z
          .record(z.string().regex(/^[a-z]{2,3}$/), z.strictObject(texts))
          .optional()
          .describe('By language (cs, nb, en...): the text a recipient of that language gets.'),
      })
      .describe('Your own text with {{placeholders}} (the fields of the trigger’s kind).'),
    z
      .strictObject({
        type: z.literal('external'),
        system: z
          .enum(['whatsapp', 'sendgrid', 'smartemailing', 'crm', 'zoom', 'webex'])
          .describe(
            'whatsapp (channel whatsapp), sendgrid or smartemailing (channel email), crm (channel crm), zoom or webex (channel meeting).',
          ),
        template: z
          .string()
          .min(1)
          .max(512)
          .describe(
            'WhatsApp template name, SendGrid dynamic template id d-…, SmartEmailing e-mail id (digits), the CRM event or tag name, or the Zoom (digits) or Webex (32 hex digits) meeting id.',
          ),
        language: z
          .string()
          .max(8)
          .optional()
          .describe('The template language at the provider (en, en_US, cs); default the recipient’s language.'),
        parameters: z
          .array(z.string().max(64))
          .max(20)
          .optional()
          .describe('Placeholder names (customerName, start, claimUrl...) that fill the template, in its order.'),
      })
      .describe(
        'A template prepared at the provider (WhatsApp message template, SendGrid dynamic template, SmartEmailing custom e-mail).',
      ),
  ])
  .meta({ id: 'WorkflowMessage' });

const workflowFields = {
  name: line(200),
  enabled: z.boolean(),
  trigger: workflowTriggerSchema,
  scope: z
    .strictObject({
      serviceIds: z.array(id).max(500).optional(),
      locationIds: z.array(id).max(500).optional(),
      resourceIds: z.array(id).max(500).optional(),
      payment: z.enum(['any', 'paid', 'unpaid']).optional(),
    })
    .optional()
    .describe('Empty lists: everything.'),
  channel: z.enum(CHANNELS),
  message: workflowMessageSchema,
  recipients: z.strictObject({
    customer: z.boolean().optional(),
    resourceStaff: z.boolean().optional(),
    admins: z.boolean().optional(),
    addresses: z
      .array(z.string().max(254))
      .max(50)
      .optional()
      .describe(
        'Email addresses, E.164 numbers (SMS, WhatsApp), Telegram chat ids, staff room labels or push registration tokens, as the channel takes.',
      ),
  }),
};

export const workflowInputSchema = z.strictObject(workflowFields).meta({ id: 'WorkflowDefinition' });

export const workflowSchema = z
  .object({
    workflowId: z.string(),
    ...workflowFields,
    scope: z.object({
      serviceIds: z.array(z.string()),
      locationIds: z.array(z.string()),
      resourceIds: z.array(z.string()),
      payment: z.enum(['any', 'paid', 'unpaid']),
    }),
    recipients: z.object({
      customer: z.boolean(),
      resourceStaff: z.boolean(),
      admins: z.boolean(),
      addresses: z.array(z.string()),
    }),
    origin: z.enum(['default', 'custom']).describe('default: ready-made from the notification settings.'),
    edited: z.boolean().describe('A ready-made workflow the tenant changed (the settings no longer change it).'),
  })
  .meta({ id: 'Workflow' });

export const workflowParams = z.object({ workflowId: id });
