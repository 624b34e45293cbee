export function RecordPage() { return <p>record</p>; }
