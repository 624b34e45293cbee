// The side-panel editor of the report node (docs/flows.md "Nodes": `report`): which of the
// app's reports it runs, the role it runs as (its rows and field mask shape the result), an
// optional filter ANDed with the report's own, and the variable the run goes into — with
// the notify body that lists the rows, to copy. With a `schedule` trigger this is a
// scheduled report delivery.
//
// data-testid: flow-prop-report, flow-prop-as-role, flow-prop-report-filter (JSON Logic),
// flow-prop-name, flow-prop-report-template (the notify body to copy)
import { Form, Input, Select, Typography } from 'antd';
import { useI18n } from '../i18n/index.tsx';
import { useReportColumns } from './designerApi.ts';
import { RoleInput, type EditorProps } from './EffectPanels.tsx';
import { JsonInput } from './inputs.tsx';
import { isObj } from './model.ts';
import { isVarKey, optionalValue, reportChoices, reportResultName, reportRowsTemplate } from './nodes.ts';

export function ReportNodeEditor(p: EditorProps) {
  const { t, label } = useI18n();
  const n = p.node;
  const report = typeof n.report === 'string' ? n.report : '';
  const choices = reportChoices(p.lookups.reports ?? [], n.report);
  const chosen = choices.find((r) => r.key === report);
  const columns = useReportColumns(p.lookups.app, chosen && !chosen.missing ? report : '');
  const name = reportResultName(n, p.id);
  const nameBad = n.name !== undefined && !isVarKey(n.name);
  const filterBad = n.filter !== undefined && !isObj(n.filter);
  const form = chosen?.form ? (p.lookups.forms.find((f) => f.value === chosen.form)?.label ?? chosen.form) : null;
  const reportHelp = !report
    ? t('flows.prop.reportPickHelp')
    : chosen?.missing && p.lookups.reports !== null
      ? t('flows.prop.reportMissing')
      : form
        ? t('flows.prop.reportForm', { form })
        : undefined;
  return (
    <>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t('flows.prop.reportHelp')}
      </Typography.Paragraph>
      <Form.Item
        label={t('flows.prop.report')}
        help={reportHelp}
        validateStatus={!report || (chosen?.missing && p.lookups.reports !== null) ? 'warning' : undefined}
      >
        <Select
          data-testid="flow-prop-report"
          showSearch
          optionFilterProp="label"
          loading={p.lookups.reports === null}
          placeholder={t('flows.prop.assignee.pick')}
          notFoundContent={t('flows.prop.reportNone')}
          value={report || undefined}
          options={choices.map((r) => ({
            value: r.key,
            label: `${label(r.label ?? undefined, r.key)} (${r.key})${r.missing ? ` · ${t('flows.prop.reportMissingShort')}` : ''}`,
          }))}
          onChange={(r: string) => p.set({ report: r })}
        />
      </Form.Item>
      <RoleInput
        node={n}
        set={p.set}
        lookups={p.lookups}
        required
        label={t('flows.prop.reportRole')}
        requiredHelp={t('flows.prop.reportRoleRequired')}
        help={t('flows.prop.reportRoleHelp')}
      />
      <Form.Item
        label={t('flows.prop.reportFilter')}
        help={filterBad ? t('flows.editor.lint.reportFilter') : t('flows.prop.reportFilterHelp')}
        validateStatus={filterBad ? 'error' : undefined}
      >
        <JsonInput key={p.id} value={n.filter} onChange={(v) => p.set({ filter: optionalValue(v) })} testId="flow-prop-report-filter" rows={2} />
      </Form.Item>
      <Form.Item
        label={t('flows.prop.reportName')}
        help={nameBad ? t('flows.prop.keyBad') : t('flows.prop.reportNameHelp', { name })}
        validateStatus={nameBad ? 'error' : undefined}
      >
        <Input data-testid="flow-prop-name" placeholder={p.id} value={typeof n.name === 'string' ? n.name : ''} onChange={(e) => p.set({ name: optionalValue(e.target.value.trim()) })} />
      </Form.Item>
      {columns.length > 0 && !nameBad && (
        <Form.Item label={t('flows.prop.reportTemplate')} help={t('flows.prop.reportTemplateHelp')}>
          <Typography.Paragraph
            data-testid="flow-prop-report-template"
            code
            copyable={{ text: reportRowsTemplate(name, columns) }}
            style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontSize: 12, marginBottom: 0 }}
          >
            {reportRowsTemplate(name, columns)}
          </Typography.Paragraph>
        </Form.Item>
      )}
    </>
  );
}
