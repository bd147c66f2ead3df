// A server component: what the app's server saw on this page load, through auth().
import { auth } from "@clerk/nextjs/server";
import { ClientView } from "./client-view";

export const dynamic = "force-dynamic";

export default async function Home() {
  const { userId } = await auth();
  return (
    <main>
      <h1>Example app</h1>
      <p id="server-user">server: {userId ?? "signed out"}</p>
      <ClientView />
    </main>
  );
}
