import { SovereignStackError } from '../../lib/util/errors';

/** The Error `fn` throws; the test fails if it throws nothing. */
export function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return e as Error;
  }
  throw new Error('expected an error');
}

/** The message of the Error `fn` throws. */
export function messageOf(fn: () => unknown): string {
  return errorOf(fn).message;
}

/** The message of the SovereignStackError `fn` throws (a user-facing error, not a crash). */
export function userErrorOf(fn: () => unknown): string {
  const e = errorOf(fn);
  expect(e).toBeInstanceOf(SovereignStackError);
  return e.message;
}
