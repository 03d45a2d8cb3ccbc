// A GitHub webhook delivery, boiled down to what an agent can act on: event, action, repository,
// sender, and the useful fields of whatever the delivery is about (pull request, issue, comment,
// release, workflow run, check ...). Long texts are cut so the event stays under the size cap.
const TEXT_CAP = 1_000;
const SUBJECTS = [
  "pull_request", "issue", "comment", "review", "release", "workflow_run", "workflow_job",
  "check_run", "check_suite", "discussion", "deployment_status", "alert",
] as const;

type Json = Record<string, unknown>;
const object = (value: unknown): Json | undefined => (value && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined);
const text = (value: unknown): string | undefined => (typeof value === "string" ? (value.length > TEXT_CAP ? `${value.slice(0, TEXT_CAP)}…` : value) : undefined);

function subject(value: Json): Json {
  const { number, title, name, state, status, conclusion, merged, draft, tag_name, head_branch, html_url, body } = value;
  const head = object(value.head)?.ref;
  const base = object(value.base)?.ref;
  return { number, title, name, state, status, conclusion, merged, draft, tag: tag_name, branch: head_branch ?? head, base, url: html_url, user: object(value.user)?.login, body: text(body) };
}

export function githubEventType(event: string, action: unknown): string {
  return typeof action === "string" && action ? `github.${event}.${action}` : `github.${event}`;
}

export function summariseDelivery(event: string, delivery: string, body: Json): Json {
  const repository = object(body.repository);
  const summary: Json = {
    event,
    action: body.action,
    delivery,
    repository: repository?.full_name,
    sender: object(body.sender)?.login,
    url: repository?.html_url,
  };
  for (const key of SUBJECTS) {
    const value = object(body[key]);
    if (value) summary[key] = subject(value);
  }
  if (event === "push" || event === "create" || event === "delete") {
    const head = object(body.head_commit);
    Object.assign(summary, {
      ref: body.ref,
      refType: body.ref_type,
      compare: body.compare,
      commits: Array.isArray(body.commits) ? body.commits.length : undefined,
      headCommit: head && { id: head.id, message: text(head.message), author: object(head.author)?.name },
    });
  }
  return JSON.parse(JSON.stringify(summary)) as Json; // drops the undefined fields
}
