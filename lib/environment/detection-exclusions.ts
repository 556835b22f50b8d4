import { Injectable, Optional } from '@nestjs/common';
import { ApplicationConfig, ModuleRef } from '@nestjs/core';
import { DETECTION_EXCLUSION } from '../feature-flags.internal-constants';

/**
 * Route prefixes whose requests are not detected: a module whose routes read `?env=` or the environment
 * header themselves (the admin API, OFREP) provides its prefix as `DETECTION_EXCLUSION`; this gathers them
 * all once the application's modules exist.
 */
@Injectable()
export class DetectionExclusions {
  private prefixes: string[] | undefined;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Optional() private readonly applicationConfig?: ApplicationConfig,
  ) {}

  /** The excluded prefixes, without leading or trailing slashes. */
  list(): string[] {
    if (this.prefixes === undefined) {
      let provided: unknown[] = [];
      try {
        provided = this.moduleRef.get<unknown, unknown[]>(DETECTION_EXCLUSION, { strict: false, each: true });
      } catch {
        // No module provides one.
      }
      const prefixes: string[] = [];
      for (const prefix of provided) {
        const path = typeof prefix === 'string' ? prefix.replace(/^\/+|\/+$/g, '') : '';
        if (path && !prefixes.includes(path)) prefixes.push(path);
      }
      this.prefixes = prefixes;
    }
    return this.prefixes;
  }

  /**
   * Whether a request's URL lies under an excluded prefix (after the app's global prefix, if any). Read
   * from the raw path, so that an encoded character the route matcher trips on (`%0A`) cannot take an
   * admin request out of its exemption.
   */
  isExcluded(url: string | undefined): boolean {
    const prefixes = this.list();
    if (prefixes.length === 0 || url === undefined) return false;
    const q = url.indexOf('?');
    let path = (q < 0 ? url : url.slice(0, q)).replace(/^\/+/, '');
    const globalPrefix = (this.applicationConfig?.getGlobalPrefix() ?? '').replace(/^\/+|\/+$/g, '');
    if (globalPrefix !== '' && (path === globalPrefix || path.startsWith(`${globalPrefix}/`)))
      path = path.slice(globalPrefix.length + 1);
    for (const prefix of prefixes) {
      if (path === prefix || path.startsWith(`${prefix}/`)) return true;
    }
    return false;
  }
}
