// The flow designer's page-level keys: with unsaved changes the browser asks before the
// page goes away, and Ctrl/Cmd+S saves. Used by FlowDesignerPage.
import { useEffect } from 'react';
import { useI18n } from '../i18n/index.tsx';

export function useEditorKeys(dirty: boolean, save: () => Promise<void>) {
  const { t } = useI18n();

  // Unsaved changes: the browser asks before the page goes away
  useEffect(() => {
    if (!dirty) return;
    const h = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = t('flows.editor.leave');
    };
    window.addEventListener('beforeunload', h);
    return () => window.removeEventListener('beforeunload', h);
  }, [dirty, t]);

  // Ctrl/Cmd+S saves (registered again each render, so it saves the latest state)
  useEffect(() => {
    const h = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 's') {
        e.preventDefault();
        void save();
      }
    };
    window.addEventListener('keydown', h);
    return () => window.removeEventListener('keydown', h);
  });
}
