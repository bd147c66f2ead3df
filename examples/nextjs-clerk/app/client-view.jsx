"use client";
// The browser's view, through the SDK (useAuth), and a call to the app's own API route.
import { useAuth } from "@clerk/nextjs";
import { useEffect, useState } from "react";

export function ClientView() {
  const { isLoaded, userId } = useAuth();
  const [api, setApi] = useState("not called");
  useEffect(() => {
    if (!isLoaded) return;
    fetch("/api/me").then((r) => setApi(String(r.status)), () => setApi("failed"));
  }, [isLoaded, userId]);
  return (
    <>
      <p id="client-user">client: {isLoaded ? userId ?? "signed out" : "loading"}</p>
      <p id="api-status">/api/me: {api}</p>
    </>
  );
}
