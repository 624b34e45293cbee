// The flow designer's messages above the canvas: the server's errors from the last save or
// publish (each says where it is; a click selects the node or edge), the warnings the last
// publish allowed, and the client-side hints (shown by FlowDesignerPage).
//
// A publish refused only because an assignee resolves to nobody yet (a role nobody holds,
// an approval by a role that may not approve) offers to publish anyway.
//
// data-testid: flow-errors, flow-error-<i>, flow-publish-anyway, flow-publish-warnings,
// flow-lint
import { Alert, Button, Typography } from 'antd';
import type { Label } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { onlyUnstaffed, type ErrorLike, type LocatedErrors, type Problem } from './checks.ts';
import type { FlowState } from './model.ts';
import type { Selection } from './useFlowCanvas.ts';

export function FlowProblems(p: {
  state: FlowState;
  located: LocatedErrors | null;
  problem: string | null;
  serverErrors: ErrorLike[];
  warnings: ErrorLike[];
  onCloseWarnings: () => void;
  onPublishAnyway: () => void;
  hints: Problem[];
  select: (sel: Selection) => void;
}) {
  const { t, label } = useI18n();
  const { state, located, problem, serverErrors, warnings, hints, select } = p;

  const where = (e: ErrorLike): { text: string; sel: Selection } => {
    for (const [id, list] of located?.nodes ?? []) if (list.includes(e)) {
      const n = state.nodes.find((x) => x.id === id);
      return { text: t('flows.editor.where.node', { id: n ? label(n.data.node.label as Label | undefined, id) : id }), sel: n ? { kind: 'node', id } : null };
    }
    for (const [id, list] of located?.edges ?? []) if (list.includes(e)) {
      const ed = state.edges.find((x) => x.id === id);
      return { text: ed ? t('flows.editor.where.edge', { from: ed.source, to: ed.target }) : id, sel: ed ? { kind: 'edge', id } : null };
    }
    if (located?.trigger.includes(e)) return { text: t('flows.editor.where.trigger'), sel: null };
    return { text: t('flows.editor.where.flow'), sel: null };
  };

  return (
    <>
      {problem && (
        <Alert
          type="error"
          style={{ marginBottom: 8 }}
          data-testid="flow-errors"
          message={problem}
          action={
            onlyUnstaffed(serverErrors) && (
              <Button size="small" data-testid="flow-publish-anyway" onClick={p.onPublishAnyway}>
                {t('flows.editor.publishAnyway')}
              </Button>
            )
          }
          description={
            serverErrors.length > 0 && (
              <ul style={{ margin: 0, paddingInlineStart: 16 }}>
                {serverErrors.map((e, i) => {
                  const w = where(e);
                  return (
                    <li key={i} data-testid={`flow-error-${i}`} data-pointer={e.pointer}>
                      {w.sel ? (
                        <Typography.Link onClick={() => select(w.sel)}>{w.text}</Typography.Link>
                      ) : (
                        <Typography.Link onClick={() => select(null)}>{w.text}</Typography.Link>
                      )}{' '}
                      <Typography.Text code>{e.pointer || '/'}</Typography.Text> {e.message}
                    </li>
                  );
                })}
              </ul>
            )
          }
        />
      )}
      {warnings.length > 0 && !problem && (
        <Alert
          type="warning"
          showIcon
          closable
          onClose={p.onCloseWarnings}
          style={{ marginBottom: 8 }}
          data-testid="flow-publish-warnings"
          message={t('flows.editor.publishWarnings', { n: warnings.length })}
          description={
            <ul style={{ margin: 0, paddingInlineStart: 16 }}>
              {warnings.map((e, i) => {
                const w = where(e);
                return (
                  <li key={i} data-pointer={e.pointer}>
                    <Typography.Link onClick={() => select(w.sel ?? null)}>{w.text}</Typography.Link>{' '}
                    <Typography.Text code>{e.pointer}</Typography.Text> {e.message}
                  </li>
                );
              })}
            </ul>
          }
        />
      )}
      {hints.length > 0 && !problem && (
        <Alert
          type="warning"
          showIcon
          style={{ marginBottom: 8 }}
          data-testid="flow-lint"
          message={[...new Set(hints.map((h) => t(`flows.editor.lint.${h.rule}`)))].join(' · ')}
        />
      )}
    </>
  );
}
