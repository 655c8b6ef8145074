"use client";

import { useEffect, useState } from "react";
import { Button, type ButtonVariant } from "./button";
import { CheckIcon, CopyIcon } from "./icons";

/** Copies `text` to the clipboard; says "Copied" (to screen readers too) once it has. */
export function CopyButton({ text, label = "Copy", variant = "secondary" }: { text: string; label?: string; variant?: ButtonVariant }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = setTimeout(() => setState("idle"), 2_500);
    return () => clearTimeout(timer);
  }, [state]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
  }

  return (
    <>
      <Button variant={variant} size="sm" onClick={copy} aria-label={state === "copied" ? "Copied" : label}>
        {state === "copied" ? <CheckIcon className="size-4 text-green-600" /> : <CopyIcon />}
        {state === "copied" ? "Copied" : label}
      </Button>
      <span role="status" className="sr-only">
        {state === "copied" ? "Copied to the clipboard" : state === "failed" ? "Could not copy: select the text and copy it by hand" : ""}
      </span>
      {state === "failed" && <span className="text-xs text-red-700">Copy failed: select the text and press Ctrl+C.</span>}
    </>
  );
}
