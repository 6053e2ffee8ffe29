/**
 * Where a JSON text that JSON.parse refused goes wrong, and what was expected there: V8's messages
 * do not always give a position, and a trace's user needs the byte to look at.
 */
import { isBlank } from './not-a-trace';

const QUOTE = 0x22, BSLASH = 0x5c, COMMA = 0x2c, COLON = 0x3a;
const LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d;

/** The character at `at`, as an error message names it. */
export function foundChar(text: string, at: number): string {
  if (at >= text.length) return 'the end of the value';
  const cp = text.codePointAt(at) ?? 0;
  return cp < 0x20 ? `control character U+${cp.toString(16).padStart(4, '0')}` : `'${String.fromCodePoint(cp)}'`;
}

/**
 * Where the first syntax error in `s`, a comma-separated run of JSON values, is (a UTF-16 index) and
 * what was expected there; undefined when there is none. Runs only after JSON.parse has failed,
 * because V8's messages do not always give a position.
 */
export function locateJsonError(s: string): { at: number; expected: string } | undefined {
  const n = s.length;
  const stack: number[] = []; // LBRACE or LBRACKET per open container
  let i = 0;
  const skipBlanks = () => {
    while (i < n && isBlank(s.charCodeAt(i))) i++;
  };
  const fail = (expected: string) => ({ at: i, expected });
  /** Advances past a string starting at `i`; returns an error or undefined. */
  const str = () => {
    for (i++; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c === QUOTE) return void i++;
      if (c < 0x20) return fail('an escaped control character or the closing \'"\' of the string');
      if (c !== BSLASH) continue;
      i++;
      if (s[i] === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) return (i++, fail('four hex digits after \\u'));
        i += 4;
      } else if (!'"\\/bfnrt'.includes(s[i] ?? 'x')) return fail('one of " \\ / b f n r t u after a backslash');
    }
    return fail('the closing \'"\' of the string');
  };
  const value = () => {
    const c = s.charCodeAt(i);
    if (c === QUOTE) return str();
    const lit = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(s.slice(i, i + 400));
    if (lit && lit[0].length && !/^[\w.+-]/.test(s.slice(i + lit[0].length, i + lit[0].length + 1))) return void (i += lit[0].length);
    return fail('a value (object, array, string, number, true, false or null)');
  };
  for (;;) {
    // here a value is due
    skipBlanks();
    const c = s.charCodeAt(i);
    if (c === LBRACE || c === LBRACKET) {
      stack.push(c);
      i++;
      skipBlanks();
      if (s.charCodeAt(i) === (c === LBRACE ? RBRACE : RBRACKET)) {
        stack.pop();
        i++;
      } else if (c === LBRACE) {
        if (s.charCodeAt(i) !== QUOTE) return fail("a property name or '}'");
        const err = str() ?? (skipBlanks(), s.charCodeAt(i) === COLON ? undefined : fail("':' after the property name"));
        if (err) return err;
        i++;
        continue;
      } else continue;
    } else {
      const err = value();
      if (err) return err;
    }
    // after a value: a separator or a closing bracket
    for (;;) {
      skipBlanks();
      const top = stack[stack.length - 1];
      if (top === undefined) {
        if (i >= n) return undefined;
        if (s.charCodeAt(i) !== COMMA) return fail("',' between values");
        i++;
        break;
      }
      const d = s.charCodeAt(i);
      if (d === COMMA) {
        i++;
        if (top === LBRACE) {
          skipBlanks();
          if (s.charCodeAt(i) !== QUOTE) return fail('a property name');
          const err = str() ?? (skipBlanks(), s.charCodeAt(i) === COLON ? undefined : fail("':' after the property name"));
          if (err) return err;
          i++;
        }
        break;
      }
      if (d !== (top === LBRACE ? RBRACE : RBRACKET)) return fail(top === LBRACE ? "',' or '}' after a property value" : "',' or ']' after an array element");
      stack.pop();
      i++;
    }
  }
}
