// Select options searchable by key and label, an exact key first (so typing a key and
// pressing Enter picks it).
type Opt = { value?: unknown; label?: unknown };

function text(o: Opt | undefined): string {
  return `${String(o?.value ?? '')} ${typeof o?.label === 'string' ? o.label : ''}`.toLowerCase();
}

export const searchable = {
  showSearch: {
    filterOption: (input: string, option?: Opt) => text(option).includes(input.toLowerCase()),
    filterSort: (a: Opt, b: Opt, info: { searchValue: string }) => {
      const s = info.searchValue.toLowerCase();
      const ea = String(a.value ?? '').toLowerCase() === s ? 0 : 1;
      const eb = String(b.value ?? '').toLowerCase() === s ? 0 : 1;
      return ea - eb;
    },
  },
};
