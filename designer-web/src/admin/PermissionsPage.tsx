export default function PermissionsPage() {
  return <p>permissions: not built yet</p>;
}
