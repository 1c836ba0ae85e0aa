import type { ConfigBundleService } from '../bundles/config-bundles/config-bundle-service';
import type { MethodHandlers } from '../server/dispatcher';

export interface ConfigBundleApiDeps {
  configBundles: ConfigBundleService;
}

type ConfigBundleMethod = Extract<keyof MethodHandlers, `configBundles.${string}`>;

/** Configuration bundles and YAML exports: export, review, import, keys, revoking an exporter (bundles/config-bundles/). */
export function createConfigBundleHandlers({ configBundles }: ConfigBundleApiDeps): Pick<MethodHandlers, ConfigBundleMethod> {
  return {
    'configBundles.export': (params) => configBundles.export(params),
    'configBundles.review': (params) => configBundles.review(params),
    'configBundles.import': (params) => configBundles.import(params),
    'configBundles.keys': () => configBundles.keys(),
    'configBundles.revokeExporter': ({ fingerprint }) => configBundles.revokeExporter(fingerprint),
  };
}
