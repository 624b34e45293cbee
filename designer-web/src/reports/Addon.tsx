// An input with a text in front (antd 6 replaces `addonBefore` with Space.Compact).
import type { ReactNode } from 'react';
import { Space } from 'antd';

export function Addon({ text, children, style }: { text: ReactNode; children: ReactNode; style?: React.CSSProperties }) {
  return (
    <Space.Compact style={style}>
      <Space.Addon>{text}</Space.Addon>
      {children}
    </Space.Compact>
  );
}
