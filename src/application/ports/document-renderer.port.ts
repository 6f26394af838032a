import type { ContentAttachment } from '../../domain/notification/index.js';

/** A rendered attachment, as the email port carries it. */
export interface RenderedAttachment {
  readonly filename: string;
  readonly contentType: string;
  readonly content: Uint8Array;
}

/**
 * Renders the documents deliveries describe (the reservation's PDF with its code) into bytes. Deterministic: the
 * same description gives the same bytes, so a retried or re-sent email carries the same document.
 */
export interface DocumentRenderer {
  render(attachment: ContentAttachment): Promise<RenderedAttachment>;
}
