import { v4 as uuidv4, v5 as uuidv5 } from 'uuid';
import type { IdSource } from '../application/ports/id-source.port.js';

/** Namespace for ids Herald derives (UUID v5); never change it, derived ids are persisted. */
const HERALD_NAMESPACE = '4f9a3c1e-6b1d-4c57-9d2e-0b8f5a7c3e21';

export const uuidIdSource: IdSource = {
  newId: () => uuidv4(),
  derive: (...parts) => uuidv5(parts.join('\u001f'), HERALD_NAMESPACE),
};
