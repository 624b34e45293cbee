export function ListPage() { return <p>list</p>; }
