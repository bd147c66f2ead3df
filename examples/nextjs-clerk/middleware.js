// Clerk's middleware decides on every request: signed-in, signed-out, or a handshake through the Frontend API.
// Its debug headers (x-clerk-auth-status, x-clerk-auth-reason) are what the harness reads as the server's view.
import { clerkMiddleware } from "@clerk/nextjs/server";

export default clerkMiddleware();

export const config = {
  matcher: ["/((?!_next|.*\\.(?:js|css|png|ico|svg|map)).*)", "/(api)(.*)"],
};
