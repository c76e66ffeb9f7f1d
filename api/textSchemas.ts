import { z } from 'zod';

/**
 * Text that ends up in calendars, iCalendar and e-mail: control characters are refused (a 400
 * naming the field) rather than passed on, since iCalendar allows none but tab in text, and a raw
 * one breaks feeds and mail headers for every reader.
 */
const NO_CONTROL = /^[^\u0000-\u0008\u000a-\u001f\u007f]*$/;
const NO_CONTROL_BUT_LINES = /^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$/;

/** One line of text (titles, names, locations): no control characters but tab. */
export const lineText = (max: number, min = 0) =>
  z.string().trim().min(min).max(max).regex(NO_CONTROL, 'must not contain control characters (other than tab)');

/** Several lines (descriptions): line breaks and tab, no other control characters. */
export const multiLineText = (max: number) =>
  z
    .string()
    .max(max)
    .regex(NO_CONTROL_BUT_LINES, 'must not contain control characters (other than tab and line breaks)');
