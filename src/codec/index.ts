/** The canonical CBOR codec (SPEC §5). Import from here; the files behind it are internal. */
export { assertJsonValue, decodeCanonical, encodeCanonical, encodeJsonValue, MAX_NESTING_DEPTH } from './canonical.js';
