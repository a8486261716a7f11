// Types of what TypeScript tests import from slapd-config.mjs.
export const SELF_DESCRIPTION_ATTRS: string[];
