export function handler(request: Request): Response {
  return new Response(`hello ${new URL(request.url).pathname}`);
}
