export default function DesignerPage() {
  return <p>designer: not built yet</p>;
}
