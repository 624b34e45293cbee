import type { Messages } from "../i18n/core.ts";

/** Messages of the admin pages (keys start with `admin.`). */
export const messages: Messages = {};
