"use client";

import { createContext, useContext, type ReactNode } from "react";

/** The signed-in user, handed from the server layout to client components. */
export interface Viewer {
  id: string;
  name: string;
  email: string;
  role: "admin" | "member";
}

const ViewerContext = createContext<Viewer | null>(null);

export function ViewerProvider({ viewer, children }: { viewer: Viewer; children: ReactNode }) {
  return <ViewerContext.Provider value={viewer}>{children}</ViewerContext.Provider>;
}

export function useViewer(): Viewer {
  const viewer = useContext(ViewerContext);
  if (!viewer) throw new Error("useViewer needs a ViewerProvider (the signed-in layout)");
  return viewer;
}
