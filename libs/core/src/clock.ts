/** The one clock. Tests replace it to control time (SigV4 skew, timestamps). */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}
