// A last line of defence for text written where personal data must not go (logs above debug, HTTP answers).
const EMAIL_ADDRESS = /[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/gi;

export function scrubAddresses(text: string): string {
  return text.replace(EMAIL_ADDRESS, '[address]');
}

/** For error messages shown to operators: user:password in URLs (amqp://, postgres://) is removed. */
export function scrubCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1[credentials]@');
}
