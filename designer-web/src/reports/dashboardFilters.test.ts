import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  addChoiceFilter,
  choiceFields,
  choiceSource,
  dateRange,
  departmentChoices,
  firstMapping,
  resolveField,
  userChoices,
  validateDashboard,
  widgetFilter,
  type DashboardDefinition,
  type FieldResolver,
  type Schemas,
} from './model.ts';

const schemas: Schemas = {
  service_order: {
    type: 'object',
    properties: {
      reported_at: { type: 'string', 'x-type': 'datetime', 'x-label': { en: 'Reported at', 'zh-CN': '报修时间' } },
      priority: {
        type: 'string',
        'x-type': 'select',
        'x-label': { en: 'Priority', 'zh-CN': '紧急程度' },
        enum: ['urgent', 'high', 'normal'],
        'x-options': { urgent: { en: 'Urgent', 'zh-CN': '紧急' }, high: { en: 'High', 'zh-CN': '高' } },
      },
      engineer: { type: 'string', 'x-type': 'member', 'x-label': { en: 'Engineer', 'zh-CN': '服务工程师' } },
      service_team: { type: 'string', 'x-type': 'department', 'x-label': { en: 'Service team', 'zh-CN': '服务部门' } },
      labour_hours: { type: 'number', 'x-type': 'number' },
      notes: { type: 'string', 'x-type': 'long_text' },
      order_no: { type: 'string', 'x-type': 'serial' },
      customer: { type: 'integer', 'x-type': 'reference', 'x-label': { en: 'Customer', 'zh-CN': '客户' }, 'x-ref': { form: 'customer', display: 'name' } },
      device: { type: 'integer', 'x-type': 'reference', 'x-ref': { form: 'device' } },
    },
  },
  customer: {
    type: 'object',
    properties: {
      name: { type: 'string', 'x-type': 'text', 'x-label': { en: 'Name', 'zh-CN': '名称' } },
      owner: { type: 'string', 'x-type': 'member', 'x-label': { en: 'Sales owner', 'zh-CN': '负责销售' } },
      grade: { type: 'string', 'x-type': 'select', enum: ['a', 'b'], 'x-options': { a: { en: 'Grade A', 'zh-CN': 'A 类' } } },
      founded: { type: 'string', 'x-type': 'date' },
      region: {
        type: 'object',
        'x-type': 'region',
        'x-label': { en: 'Region', 'zh-CN': '所在地区' },
        properties: { province: { type: 'string' }, city: { type: 'string' } },
      },
    },
  },
};

const dash: DashboardDefinition = {
  filters: [
    { key: 'period', type: 'date_range' },
    { key: 'priority', type: 'select' },
    { key: 'team', type: 'select' },
  ],
  widgets: [
    { report: 'service_today', x: 0, y: 0, w: 4, h: 2, filters: { priority: 'priority' } },
    { report: 'open_orders', x: 4, y: 0, w: 4, h: 2, filters: { period: 'reported_at', priority: 'priority', team: 'service_team' } },
    { report: 'fees', x: 8, y: 0, w: 4, h: 2, filters: {} },
  ],
};
const [today, open, fees] = dash.widgets as [DashboardDefinition['widgets'][number], DashboardDefinition['widgets'][number], DashboardDefinition['widgets'][number]];
const march = dateRange('2026-03-01', '2026-03-31');
const range = { and: [{ '>=': [{ var: 'reported_at' }, '2026-03-01'] }, { '<': [{ var: 'reported_at' }, '2026-04-01'] }] };

describe('choice filters in the run filter', () => {
  it('sends the chosen values as `in` over the mapped field', () => {
    expect(widgetFilter(dash, open, { priority: ['urgent', 'high'] })).toEqual({ in: [{ var: 'priority' }, ['urgent', 'high']] });
    expect(widgetFilter(dash, open, { team: ['svc_east'] })).toEqual({ in: [{ var: 'service_team' }, ['svc_east']] });
  });

  it('sends no condition when no value is chosen', () => {
    expect(widgetFilter(dash, open, { priority: [] })).toBeUndefined();
    expect(widgetFilter(dash, open, { priority: undefined })).toBeUndefined();
    // The date range alone keeps its own shape.
    expect(widgetFilter(dash, open, { period: march, priority: [] })).toEqual(range);
  });

  it('ANDs the date range with the choices, in the order of the filters', () => {
    expect(widgetFilter(dash, open, { period: march, priority: ['urgent'], team: ['svc_east', 'svc_west'] })).toEqual({
      and: [range, { in: [{ var: 'priority' }, ['urgent']] }, { in: [{ var: 'service_team' }, ['svc_east', 'svc_west']] }],
    });
  });

  it('leaves a widget alone that does not map the filter', () => {
    const values = { period: march, priority: ['urgent'], team: ['svc_east'] };
    expect(widgetFilter(dash, fees, values)).toBeUndefined();
    expect(widgetFilter(dash, today, values)).toEqual({ in: [{ var: 'priority' }, ['urgent']] });
  });

  it('ignores a value of the other kind', () => {
    expect(widgetFilter(dash, open, { period: ['urgent'], priority: march })).toBeUndefined();
  });
});

describe('choices of a choice filter', () => {
  it('takes them from the first widget that maps the filter', () => {
    expect(firstMapping(dash, 'priority')).toEqual({ report: 'service_today', field: 'priority' });
    expect(firstMapping(dash, 'team')).toEqual({ report: 'open_orders', field: 'service_team' });
    expect(firstMapping(dash, 'period')).toEqual({ report: 'open_orders', field: 'reported_at' });
    expect(firstMapping(dash, 'nothing')).toBeUndefined();
  });

  it('offers a select field its values with their labels in the language shown', () => {
    expect(choiceSource(schemas, 'service_order', 'priority', 'en')).toEqual({
      kind: 'options',
      options: [
        { value: 'urgent', label: 'Urgent' },
        { value: 'high', label: 'High' },
        { value: 'normal', label: 'normal' },
      ],
    });
    const zh = choiceSource(schemas, 'service_order', 'priority', 'zh-CN');
    expect(zh.kind === 'options' && zh.options.map((o) => o.label)).toEqual(['紧急', '高', 'normal']);
  });

  it('offers staff for a member field and departments for a department field', () => {
    expect(choiceSource(schemas, 'service_order', 'engineer', 'en')).toEqual({ kind: 'users' });
    expect(choiceSource(schemas, 'service_order', 'service_team', 'en')).toEqual({ kind: 'departments' });
    expect(userChoices([{ username: 'engineer1', display_name: 'Li Wei', department: null }, { username: 'x', display_name: null, department: null }])).toEqual([
      { value: 'engineer1', label: 'Li Wei (engineer1)' },
      { value: 'x', label: 'x' },
    ]);
    expect(departmentChoices([{ id: 'svc_east', name: 'Service East', parent: null, head: null }])).toEqual([{ value: 'svc_east', label: 'Service East' }]);
  });

  it('follows a joined path to the field of the referenced form', () => {
    expect(choiceSource(schemas, 'service_order', 'customer.owner', 'en')).toEqual({ kind: 'users' });
    expect(choiceSource(schemas, 'service_order', 'customer.grade', 'en')).toEqual({ kind: 'options', options: [{ value: 'a', label: 'Grade A' }, { value: 'b', label: 'b' }] });
    expect(resolveField(schemas, 'service_order', 'customer.region.province')).toMatchObject({ form: 'customer', schema: { type: 'string' } });
  });

  it('has values typed for other text fields and fields it cannot read', () => {
    expect(choiceSource(schemas, 'service_order', 'order_no', 'en')).toEqual({ kind: 'tags' });
    expect(choiceSource(schemas, 'service_order', 'customer.region.province', 'en')).toEqual({ kind: 'tags' });
    expect(choiceSource(schemas, 'service_order', 'device.serial_number', 'en')).toEqual({ kind: 'tags' });
    expect(choiceSource(schemas, 'service_order', 'nope', 'en')).toEqual({ kind: 'tags' });
    expect(choiceSource({}, 'service_order', 'priority', 'en')).toEqual({ kind: 'tags' });
  });
});

describe('the builder and choice filters', () => {
  it('lists the text-valued fields a choice filter can map to, through references too', () => {
    const list = choiceFields(schemas, 'service_order');
    expect(list.map((f) => f.path)).toEqual([
      'priority',
      'engineer',
      'service_team',
      'order_no',
      'customer.name',
      'customer.owner',
      'customer.grade',
      'customer.region.province',
      'customer.region.city',
    ]);
    expect(list.find((f) => f.path === 'customer.owner')!.label).toEqual({ 'zh-CN': '客户 / 负责销售', en: 'Customer / Sales owner' });
    expect(list.find((f) => f.path === 'customer.region.province')!.label.en).toBe('Customer / Region / province');
  });

  it('adds choice filters with keys of their own', () => {
    const one = addChoiceFilter({ widgets: [] });
    expect(one.filters).toEqual([{ key: 'choice', type: 'select', label: { 'zh-CN': '选项', en: 'Choice' } }]);
    expect(addChoiceFilter(one).filters!.map((f) => f.key)).toEqual(['choice', 'choice_2']);
  });

  const fields: FieldResolver = (_report, path) => resolveField(schemas, 'service_order', path);
  const mapped = (filters: Record<string, string>): DashboardDefinition => ({ ...dash, widgets: [{ report: 'open_orders', x: 0, y: 0, w: 4, h: 2, filters }] });

  it('accepts choice filters over text-valued fields, joined ones and region parts', () => {
    expect(validateDashboard(dash, undefined, fields)).toEqual([]);
    expect(validateDashboard(mapped({ priority: 'customer.owner', team: 'customer.region.province' }), undefined, fields)).toEqual([]);
  });

  it('flags a choice filter over a field that is not text, and a date range over one that is not a date', () => {
    expect(validateDashboard(mapped({ priority: 'labour_hours', team: 'notes', period: 'priority' }), undefined, fields)).toEqual([
      { pointer: '/widgets/0/filters/priority', code: 'filterNotText', vars: { filter: 'priority', field: 'labour_hours' } },
      { pointer: '/widgets/0/filters/team', code: 'filterNotText', vars: { filter: 'team', field: 'notes' } },
      { pointer: '/widgets/0/filters/period', code: 'filterNotDate', vars: { filter: 'period', field: 'priority' } },
    ]);
    expect(validateDashboard(mapped({ priority: 'customer.founded' }), undefined, fields).map((i) => i.code)).toEqual(['filterNotText']);
    // Not known (yet): no judgement; without a resolver, none either.
    expect(validateDashboard(mapped({ priority: 'device.model' }), undefined, fields)).toEqual([]);
    expect(validateDashboard(mapped({ priority: 'labour_hours' }))).toEqual([]);
  });

  it('flags filters of an unknown type and mappings of filters that do not exist', () => {
    const odd = { ...dash, filters: [...dash.filters!, { key: 'x', type: 'number' } as unknown as NonNullable<DashboardDefinition['filters']>[number]] };
    expect(validateDashboard(odd).map((i) => [i.pointer, i.code])).toEqual([['/filters/3/type', 'filterType']]);
    expect(validateDashboard(mapped({ status: 'status' }), undefined, fields).map((i) => i.code)).toEqual(['filterUnknown']);
  });
});

describe("the CRM's dashboards", () => {
  const crm = join(import.meta.dirname, '../../../seed-apps/medical-device-crm');
  const json = (dir: string) =>
    Object.fromEntries(readdirSync(join(crm, dir)).filter((f) => f.endsWith('.json')).map((f) => [f.slice(0, -5), JSON.parse(readFileSync(join(crm, dir, f), 'utf8'))]));
  const forms = json('forms') as Record<string, { schema: Schemas[string] }>;
  const reports = json('reports') as Record<string, { form: string }>;
  const crmSchemas: Schemas = Object.fromEntries(Object.entries(forms).map(([k, f]) => [k, f.schema]));
  const fields: FieldResolver = (report, path) => (reports[report] ? resolveField(crmSchemas, reports[report].form, path) : undefined);

  it('map every shared filter to a field of its kind', () => {
    for (const [key, dashboard] of Object.entries(json('dashboards') as Record<string, DashboardDefinition>)) {
      expect(validateDashboard(dashboard, Object.keys(reports), fields), key).toEqual([]);
      for (const w of dashboard.widgets) for (const path of Object.values(w.filters ?? {})) expect(fields(w.report, path), `${key}: ${w.report} ${path}`).toBeDefined();
    }
  });

  it('offer the service priorities and the departments as choices', () => {
    const service = json('dashboards').service as DashboardDefinition;
    const at = (key: string) => {
      const m = firstMapping(service, key)!;
      return choiceSource(crmSchemas, reports[m.report]!.form, m.field, 'en');
    };
    expect(at('priority')).toMatchObject({ kind: 'options', options: expect.arrayContaining([{ value: 'urgent', label: 'Urgent' }]) });
    expect(at('team')).toEqual({ kind: 'departments' });
  });
});
