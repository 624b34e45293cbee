import type { Messages } from "../i18n/core.ts";

/** Messages of the form designer (keys start with `designer.`). */
export const messages: Messages = {};
