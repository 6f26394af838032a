import { MongoBackend } from '@agendajs/mongo-backend';
import type { AgendaBackend } from 'agenda';
import type { Db, MongoClientOptions } from 'mongodb';

export const MONGO_AGENDA_COLLECTION = 'agenda_jobs';

export type MongoAgendaBackendOptions =
  /** A database the composition root owns: the scheduler's stop() leaves the connection open. */
  | { readonly db: Db }
  /** A connection string (with the database name in its path): the backend connects and closes on its own. */
  | { readonly url: string; readonly clientOptions?: MongoClientOptions };

/**
 * Agenda's own MongoDB backend on the `agenda_jobs` collection. It polls (no change streams: they need a replica
 * set). Connecting also creates the indexes of the `agenda_logs` collection, although Herald does not enable
 * Agenda's job log.
 */
export function createMongoAgendaBackend(options: MongoAgendaBackendOptions): AgendaBackend {
  const connection =
    'db' in options
      ? { mongo: options.db }
      : { address: options.url, ...(options.clientOptions ? { options: options.clientOptions } : {}) };
  return new MongoBackend({ ...connection, collection: MONGO_AGENDA_COLLECTION });
}
