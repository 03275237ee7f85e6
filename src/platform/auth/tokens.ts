import { createHash, randomBytes } from 'node:crypto';

/** `tsk_` + 43 url-safe characters (256 random bits). Only its SHA-256 is stored. */
export function generateToken(): string {
  return `tsk_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What lists show instead of the token: enough to recognise it, not to use it. */
export function tokenPrefix(token: string): string {
  return token.slice(0, 8);
}

/** The bearer token of an `Authorization` header, or of HTTP Basic (the password). */
export function tokenFromHeader(header: string | undefined): string | null {
  if (!header) return null;
  const [scheme, value] = header.split(' ', 2);
  if (!scheme || !value) return null;
  if (scheme.toLowerCase() === 'bearer') return value.trim() || null;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) || null : null;
  }
  return null;
}
