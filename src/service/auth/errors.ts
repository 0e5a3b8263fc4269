// Authentication failures, by the gateway's codes (reference §3.3): the API answers them with HTTP 401
// and its envelope, the token service with its own. Messages name what is wrong and never carry a
// secret or a token.
export type AuthCode = 1001 | 1002 | 1003 | 1004 | 1202 | 1203 | 1204;

export class AuthError extends Error {
  override readonly name: string = 'AuthError';
  constructor(
    readonly code: AuthCode,
    message: string,
  ) {
    super(message);
  }
}
