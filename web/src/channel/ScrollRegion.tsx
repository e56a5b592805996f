/**
 * A scrolling box (a long table or list) that keyboard users can scroll too: focusable, and a
 * named region so that its focus stop means something.
 */
import type { ComponentChildren } from "preact";

export function ScrollRegion({ label, class: cls, children }: { label: string; class?: string; children: ComponentChildren }) {
  return (
    <div class={cls ?? "table-wrap"} tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}
