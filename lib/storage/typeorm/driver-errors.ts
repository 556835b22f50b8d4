/** What the database drivers' errors say, read the same way for PostgreSQL, MySQL/MariaDB and SQLite. */

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
}

function driverError(e: unknown): DriverError {
  const err = (e ?? {}) as DriverError & { driverError?: DriverError };
  return err.driverError ?? err;
}

/** PostgreSQL 23505, MySQL/MariaDB ER_DUP_ENTRY (1062), SQLite UNIQUE / PRIMARY KEY constraints. */
export function isUniqueViolation(e: unknown): boolean {
  const { code, errno, message } = driverError(e);
  return (
    code === '23505' ||
    errno === 1062 ||
    code === 'ER_DUP_ENTRY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    (code === 'SQLITE_CONSTRAINT' && /UNIQUE|PRIMARY KEY/.test(message ?? ''))
  );
}

/** PostgreSQL 23503, MySQL/MariaDB 1451/1452, SQLite FOREIGN KEY constraint. */
export function isForeignKeyViolation(e: unknown): boolean {
  const { code, errno, message } = driverError(e);
  return (
    code === '23503' ||
    errno === 1451 ||
    errno === 1452 ||
    code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ||
    (code === 'SQLITE_CONSTRAINT' && /FOREIGN KEY/.test(message ?? ''))
  );
}

/** Serialization failures and deadlocks: the transaction was rolled back and may simply run again. */
export function isTransient(e: unknown): boolean {
  const { code, errno } = driverError(e);
  return code === '40001' || code === '40P01' || errno === 1213 || code === 'SQLITE_BUSY';
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'SQLITE_CANTOPEN',
]);

/** The store cannot be reached: network errors, PostgreSQL classes 08 and 57P, refused logins, missing database. */
export function isUnavailable(e: unknown): boolean {
  const { code, message } = driverError(e);
  if (
    code &&
    (CONNECTION_CODES.has(code) ||
      code.startsWith('08') ||
      code.startsWith('57P') ||
      code === '28P01' ||
      code === '3D000')
  )
    return true;
  return /Connection terminated|pool after calling end|Pool is closed|Can't add new command when connection is in closed state/i.test(
    message ?? '',
  );
}
