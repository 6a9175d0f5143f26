/**
 * The bytes the bad-input scenarios send where UTF-8 is due: 0xC3 starts a two-byte sequence that
 * 0x28 does not continue, and 0xFF never occurs in UTF-8. A server may ignore the line that holds
 * them, or drop them and read the rest, as the original does (ECP-ERR-01): what is left is "(".
 */
export const NOT_UTF8: readonly number[] = [0xc3, 0x28, 0xff];
export const NOT_UTF8_DROPPED = '(';
