// Draws a form from its definition (layout tree + schema) for entering or viewing a
// record. The designer's live preview uses this same component, so admins see exactly
// what staff will see.
import { Card, Col, Form, Row } from 'antd';
import type { FormDefinition, LayoutNode } from '../api/types.ts';
import { useI18n } from '../i18n/index.tsx';
import { FieldInput } from './FieldInput.tsx';
import { fieldMap, layoutOf, requiredFields, ruleShows, scopeKey } from './model.ts';

export interface RecordFormProps {
  app: string;
  definition: Pick<FormDefinition, 'schema' | 'layout'>;
  data: Record<string, unknown>;
  /** Receives an update of the previous data (a state setter fits), never a snapshot:
   *  an upload that finishes later must not undo what was typed meanwhile. */
  onChange: (update: (prev: Record<string, unknown>) => Record<string, unknown>) => void;
  /** Field → messages (from the server or the client-side check). */
  errors?: Map<string, string[]>;
  /** Fields the caller may write; others are shown read-only. Undefined: all. */
  writable?: Set<string>;
  readOnly?: boolean;
}

export function RecordForm(p: RecordFormProps) {
  const { label } = useI18n();
  const fields = fieldMap(p.definition.schema);
  const required = requiredFields(p.definition.schema, p.data);
  const layout = layoutOf(p.definition);

  const render = (n: LayoutNode, path: string): React.ReactNode => {
    if (!ruleShows(n.rule, p.data)) return null;
    if (n.type === 'Control') {
      const key = scopeKey(n.scope);
      const f = key ? fields.get(key) : undefined;
      if (!key || !f) return null;
      const errs = p.errors?.get(key);
      const ro = p.readOnly || (p.writable !== undefined && !p.writable.has(key));
      return (
        <Form.Item
          key={path}
          label={label(f.schema['x-label'], key)}
          required={required.has(key)}
          help={errs?.join('; ') ?? label(f.schema['x-help'])}
          validateStatus={errs ? 'error' : undefined}
          data-field={key}
        >
          <FieldInput
            app={p.app}
            fieldKey={key}
            schema={f.schema}
            value={p.data[key]}
            readOnly={ro}
            onChange={(v) =>
              p.onChange((prev) => {
                const next = { ...prev };
                if (v === undefined) delete next[key];
                else next[key] = v;
                return next;
              })
            }
          />
        </Form.Item>
      );
    }
    const children = (n.elements ?? []).map((e, i) => render(e, `${path}/${i}`)).filter((c) => c !== null);
    if (n.type === 'HorizontalLayout') {
      if (children.length === 0) return null;
      const span = Math.max(6, Math.floor(24 / children.length));
      return (
        <Row key={path} gutter={16}>
          {children.map((c, i) => (
            <Col key={i} xs={24} md={span}>
              {c}
            </Col>
          ))}
        </Row>
      );
    }
    if (n.type === 'Group') {
      if (children.length === 0) return null;
      return (
        <Card key={path} size="small" title={label(n.label)} style={{ marginBottom: 16 }}>
          {children}
        </Card>
      );
    }
    return <div key={path}>{children}</div>;
  };

  return <Form layout="vertical">{render(layout, 'root')}</Form>;
}
