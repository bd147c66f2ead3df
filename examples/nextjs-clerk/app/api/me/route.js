// The app's API: 200 with the user the server sees, 401 when it sees none.
import { auth } from "@clerk/nextjs/server";

export async function GET() {
  const { userId } = await auth();
  if (!userId) return Response.json({ signed_in: false }, { status: 401 });
  return Response.json({ signed_in: true, user: userId });
}
