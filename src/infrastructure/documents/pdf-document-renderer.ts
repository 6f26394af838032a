import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import type { DocumentRenderer, RenderedAttachment } from '../../application/ports/document-renderer.port.js';
import {
  reservationDocumentText,
  type ContentAttachment,
  type ReservationDocumentData,
} from '../../domain/notification/index.js';

const require = createRequire(import.meta.url);
/** DejaVu Sans covers Latin Extended (č, ř, ø, å...): the PDF's standard fonts only cover WinAnsi. */
const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const REGULAR = join(FONT_DIR, 'DejaVuSans.ttf');
const BOLD = join(FONT_DIR, 'DejaVuSans-Bold.ttf');

/** The QR code's modules (dark = true), row by row: what the PDF draws, and what a scanner reads back. */
export function qrModules(text: string): boolean[][] {
  const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = qr.modules.size;
  return Array.from({ length: size }, (_, row) =>
    Array.from({ length: size }, (_, column) => qr.modules.get(row, column) === 1),
  );
}

/**
 * The reservation's PDF (seed 001: "PDF with reservation codes"): A5, the title, the code large with its QR code,
 * the details in the customer's language and the location's time zone, a note, the sender. pdfkit with DejaVu Sans
 * embedded (subset) and the QR code drawn as vector squares (the `qrcode` package's matrix). Deterministic: the
 * creation date is the document's `issuedAt`, from which pdfkit also derives the file id, so the same data gives
 * the same bytes.
 */
export async function renderReservationPdf(data: ReservationDocumentData): Promise<Uint8Array> {
  const text = reservationDocumentText(data);
  const doc = new PDFDocument({
    size: 'A5',
    margins: { top: 40, bottom: 40, left: 40, right: 40 },
    info: {
      Title: `${text.title} ${text.code}`,
      Author: text.sender,
      Producer: 'Herald',
      Creator: 'Herald',
      CreationDate: new Date(data.issuedAt),
    },
    lang: text.language,
    displayTitle: true,
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('regular', REGULAR);
  doc.registerFont('bold', BOLD);
  const left = doc.page.margins.left;
  const width = doc.page.width - left - doc.page.margins.right;

  doc.font('bold').fontSize(20).text(text.title, left, 40, { width });
  doc.font('regular').fontSize(11).fillColor('#555555').text(text.sender, { width });

  // The code, large, and its QR code beside it.
  const top = doc.y + 16;
  const modules = qrModules(text.code);
  const quiet = 2;
  const qrSize = 120;
  const cell = qrSize / (modules.length + quiet * 2);
  const qrLeft = left + width - qrSize;
  doc.rect(qrLeft, top, qrSize, qrSize).fill('#ffffff');
  doc.fillColor('#000000');
  modules.forEach((row, r) =>
    row.forEach((dark, c) => {
      if (dark) doc.rect(qrLeft + (c + quiet) * cell, top + (r + quiet) * cell, cell, cell);
    }),
  );
  doc.fill('#000000');
  doc
    .font('bold')
    .fontSize(30)
    .fillColor('#000000')
    .text(text.code, left, top + 36, { width: width - qrSize - 12 });

  let y = top + qrSize + 20;
  doc.fontSize(11);
  for (const [label, value] of text.rows) {
    doc.font('bold').text(label, left, y, { width: 110 });
    doc.font('regular').text(value, left + 116, y, { width: width - 116 });
    y = Math.max(doc.y, y) + 6;
  }
  doc
    .font('regular')
    .fontSize(10)
    .fillColor('#555555')
    .text(text.note, left, y + 10, { width });
  doc.end();
  return new Uint8Array(await done);
}

export function createPdfDocumentRenderer(): DocumentRenderer {
  return {
    async render(attachment: ContentAttachment): Promise<RenderedAttachment> {
      switch (attachment.kind) {
        case 'reservation-pdf':
          return {
            filename: `reservation-${attachment.reservation.code}.pdf`.replace(/[^A-Za-z0-9._-]/g, '_'),
            contentType: 'application/pdf',
            content: await renderReservationPdf(attachment.reservation),
          };
      }
    },
  };
}
