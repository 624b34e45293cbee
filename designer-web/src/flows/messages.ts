import type { Messages } from '../i18n/core.ts';
import { editorMessages } from './editorMessages.ts';
import { inboxMessages } from './inboxMessages.ts';
import { propertyMessages } from './propertyMessages.ts';

/** Messages of the flow designer, the task inbox, the task page and the instance page
 * (each key is in exactly one of the three tables). */
export const messages: Messages = { ...editorMessages, ...propertyMessages, ...inboxMessages };
