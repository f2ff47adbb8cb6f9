import { randomBytes } from 'node:crypto';

/** Where a `response_url` came from: which interaction, in which conversation. */
export interface ResponseTarget {
  readonly kind: 'actions' | 'commands';
  readonly user: string;
  readonly channel: string;
  /** The message whose button was clicked (block_actions on a message). */
  readonly messageTs: string | null;
  readonly threadTs: string | null;
}

/** One POST the app made to a response_url. */
export interface ResponseUrlRecord {
  readonly at: Date;
  readonly url: string;
  readonly target: ResponseTarget | null;
  readonly body: Record<string, unknown> | null;
  /** What the fake did with it. */
  readonly effect: 'ephemeral' | 'in_channel' | 'replaced' | 'deleted' | 'rejected';
}

/** The response_urls the fake hands out (`/actions/T../n/secret`, as hooks.slack.com does). */
export class ResponseUrls {
  readonly #targets = new Map<string, ResponseTarget>();
  readonly #records: ResponseUrlRecord[] = [];
  #counter = 0;

  constructor(
    private readonly baseUrl: () => string,
    private readonly teamId: string,
  ) {}

  issue(target: ResponseTarget): string {
    this.#counter += 1;
    const path = `/${target.kind}/${this.teamId}/${Date.now()}${this.#counter}/${randomBytes(12).toString('hex')}`;
    this.#targets.set(path, target);
    return this.baseUrl() + path;
  }

  /** The target of a response_url path, if the fake issued it. */
  target(path: string): ResponseTarget | undefined {
    return this.#targets.get(path);
  }

  isResponsePath(path: string): boolean {
    return /^\/(actions|commands)\//.test(path);
  }

  record(record: ResponseUrlRecord): void {
    this.#records.push(record);
  }

  records(): ResponseUrlRecord[] {
    return [...this.#records];
  }
}
