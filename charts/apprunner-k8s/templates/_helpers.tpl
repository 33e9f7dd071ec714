{{/* Chart name, truncated to 63 characters. */}}
{{- define "apprunner-k8s.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name; component suffixes (-api, -worker, -postgresql ...) must still fit 63 characters. */}}
{{- define "apprunner-k8s.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 48 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 48 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 48 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "apprunner-k8s.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Common labels. Call with (dict "ctx" $ "component" "api"). */}}
{{- define "apprunner-k8s.labels" -}}
helm.sh/chart: {{ include "apprunner-k8s.chart" .ctx }}
{{ include "apprunner-k8s.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: apprunner-k8s
{{- end }}

{{/* Selector labels. Call with (dict "ctx" $ "component" "api"). */}}
{{- define "apprunner-k8s.selectorLabels" -}}
app.kubernetes.io/name: {{ include "apprunner-k8s.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{- define "apprunner-k8s.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret the processes read MASTER_KEY, ADMIN_TOKEN, DATABASE_URL and REDIS_URL from. */}}
{{- define "apprunner-k8s.secretName" -}}
{{- default (include "apprunner-k8s.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{- define "apprunner-k8s.postgresqlHost" -}}
{{- printf "%s-postgresql" (include "apprunner-k8s.fullname" .) }}
{{- end }}

{{- define "apprunner-k8s.redisHost" -}}
{{- printf "%s-redis" (include "apprunner-k8s.fullname" .) }}
{{- end }}

{{/*
Prerequisite checks: every mandatory value, with the way to provide it. Included by the ConfigMap, which is always
rendered, so a missing value fails `helm install`, `helm upgrade` and `helm template` alike.
*/}}
{{- define "apprunner-k8s.validate" -}}
{{- $v := .Values }}
{{- if lt (int $v.api.terminationGracePeriodSeconds) (add $v.api.preStopSleepSeconds 10) }}
{{- fail "api.terminationGracePeriodSeconds must leave at least 10 s after api.preStopSleepSeconds (5 s of them are the margin before Kubernetes' SIGKILL)" }}
{{- end }}
{{- if not $v.image.repository }}
{{- fail "image.repository is required: the registry path of the image built from the repository's Dockerfile" }}
{{- end }}
{{- if $v.evaluation.enabled }}
{{- if $v.secrets.existingSecret }}
{{- fail "evaluation mode generates its own Secret: unset secrets.existingSecret, or disable evaluation mode and use external PostgreSQL and Redis" }}
{{- end }}
{{- if or $v.database.url $v.redis.url }}
{{- fail "evaluation mode runs PostgreSQL and Redis in the chart: unset database.url and redis.url, or disable evaluation mode" }}
{{- end }}
{{- else }}
{{- if not $v.secrets.existingSecret }}
{{- if not $v.database.url }}
{{- fail "database.url is required: set database.url (postgresql://user:password@host:5432/db) or secrets.existingSecret, or enable evaluation mode (-f values-evaluation.yaml)" }}
{{- end }}
{{- if not $v.redis.url }}
{{- fail "redis.url is required: set redis.url (redis://:password@host:6379) or secrets.existingSecret, or enable evaluation mode (-f values-evaluation.yaml)" }}
{{- end }}
{{- if not $v.secrets.masterKey }}
{{- fail "secrets.masterKey is required: 32 bytes as base64 (openssl rand -base64 32), or secrets.existingSecret, or enable evaluation mode (-f values-evaluation.yaml)" }}
{{- end }}
{{- if not $v.secrets.adminToken }}
{{- fail "secrets.adminToken is required: at least 24 characters (openssl rand -hex 24), or secrets.existingSecret, or enable evaluation mode (-f values-evaluation.yaml)" }}
{{- end }}
{{- end }}
{{- if not $v.config.platformDomain }}
{{- fail "config.platformDomain is required: service URLs are <id>.<region>.<platformDomain> (point a wildcard DNS record at your ingress controller)" }}
{{- end }}
{{- end }}
{{- if and $v.ingress.enabled (not $v.ingress.host) }}
{{- fail "ingress.host is required when ingress.enabled is true" }}
{{- end }}
{{- include "apprunner-k8s.validateGithub" . }}
{{- include "apprunner-k8s.validateBuild" . }}
{{- end }}

{{/* The GitHub App and the registry webhook: the non-secret values and their secrets go together. */}}
{{- define "apprunner-k8s.validateGithub" -}}
{{- $v := .Values }}
{{- $inline := not $v.secrets.existingSecret }}
{{- if include "apprunner-k8s.githubEnabled" . }}
{{- if not $v.config.github.appSlug }}
{{- fail "config.github.appSlug is required with config.github.appId: the App's URL name (https://github.com/apps/<appSlug>)" }}
{{- end }}
{{- if not $v.config.github.clientId }}
{{- fail "config.github.clientId is required with config.github.appId: the App's Client ID (its settings page), for the user authorization that verifies the setup callback" }}
{{- end }}
{{- if and $inline (not $v.secrets.githubAppPrivateKey) }}
{{- fail "secrets.githubAppPrivateKey is required with config.github.appId: the App's PEM private key (--set-file secrets.githubAppPrivateKey=app.private-key.pem), or key GITHUB_APP_PRIVATE_KEY of secrets.existingSecret" }}
{{- end }}
{{- if and $inline (not $v.secrets.githubWebhookSecret) }}
{{- fail "secrets.githubWebhookSecret is required with config.github.appId: the webhook secret set on the App (openssl rand -hex 32), or key GITHUB_WEBHOOK_SECRET of secrets.existingSecret" }}
{{- end }}
{{- if and $inline (not $v.secrets.githubClientSecret) }}
{{- fail "secrets.githubClientSecret is required with config.github.appId: a client secret generated on the App's settings page, or key GITHUB_CLIENT_SECRET of secrets.existingSecret" }}
{{- end }}
{{- if not (include "apprunner-k8s.publicUrl" .) }}
{{- fail "config.github.appId needs the API's external URL for the App's setup callback and webhook: set config.publicUrl (https://apprunner.example.com) or enable the Ingress (ingress.enabled, ingress.host)" }}
{{- end }}
{{- else if and $inline (or $v.secrets.githubAppPrivateKey $v.secrets.githubWebhookSecret $v.secrets.githubClientSecret) }}
{{- fail "secrets.githubAppPrivateKey / secrets.githubWebhookSecret / secrets.githubClientSecret are set but config.github.appId is empty: set config.github.appId, config.github.appSlug and config.github.clientId, or remove the secrets" }}
{{- end }}
{{- if and $v.config.registryWebhook.enabled $inline (not $v.evaluation.enabled) (not $v.secrets.registryWebhookToken) }}
{{- fail "secrets.registryWebhookToken is required with config.registryWebhook.enabled: at least 16 characters (openssl rand -hex 24), or key REGISTRY_WEBHOOK_TOKEN of secrets.existingSecret" }}
{{- end }}
{{- if and $inline $v.secrets.registryWebhookToken (not $v.config.registryWebhook.enabled) }}
{{- fail "secrets.registryWebhookToken is set but config.registryWebhook.enabled is false: enable it, or remove the token" }}
{{- end }}
{{- end }}

{{/* Builds: somewhere to push, a consistent credential, storage that fits the worker's replicas. */}}
{{- define "apprunner-k8s.validateBuild" -}}
{{- $b := .Values.build }}
{{- $r := $b.registry }}
{{- if $b.enabled }}
{{- if not (include "apprunner-k8s.buildRegistry" .) }}
{{- fail "build.enabled needs a registry to push built images to: set build.registry.host (host[:port][/path], e.g. registry.example.com/apprunner), or enable the in-chart registry (build.registry.inCluster.enabled, evaluation only), or set build.enabled=false (code-based services then fail to deploy)" }}
{{- end }}
{{- if and $r.existingAuthSecret (or $r.username $r.password) }}
{{- fail "build.registry.existingAuthSecret and build.registry.username/password are exclusive: give the push credential one way" }}
{{- end }}
{{- if ne (empty $r.username) (empty $r.password) }}
{{- fail "build.registry.username and build.registry.password go together: set both, or neither for anonymous pushes" }}
{{- end }}
{{- if and (eq $b.driver "buildah") $b.storage.persistence.enabled (gt (int .Values.worker.replicas) 1) }}
{{- fail "build.storage.persistence.enabled allows one worker replica (buildah's store cannot be shared between pods): set worker.replicas=1, or keep the default emptyDir storage" }}
{{- end }}
{{- if and (eq $b.driver "kubernetes") (eq $b.namespace .Release.Namespace) }}
{{- fail "build.namespace must not be the release namespace: build Jobs run tenants' code and get a namespace of their own" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Pod-level security context of every pod of the chart. Call with (dict "uid" 1000 "gid" 1000). */}}
{{- define "apprunner-k8s.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .gid }}
fsGroup: {{ .gid }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Container-level security context of every container of the chart. */}}
{{- define "apprunner-k8s.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The environment of a process: the ConfigMap whole, the four platform secrets, and the secrets its part needs - the
API the GitHub App's key and OAuth client secret (connection handshakes) and the webhook secrets, the worker the GitHub App (installation tokens)
and the registry's push credential (a file). Call with (dict "ctx" $ "component" "api"|"worker"|"init").
*/}}
{{- define "apprunner-k8s.env" -}}
{{- $ctx := .ctx }}
{{- $keys := list "DATABASE_URL" "REDIS_URL" "MASTER_KEY" "ADMIN_TOKEN" }}
{{- if and (ne .component "init") (include "apprunner-k8s.githubEnabled" $ctx) }}
{{- $keys = append $keys "GITHUB_APP_PRIVATE_KEY" }}
{{- end }}
{{- if eq .component "api" }}
{{- if include "apprunner-k8s.githubEnabled" $ctx }}
{{- $keys = concat $keys (list "GITHUB_WEBHOOK_SECRET" "GITHUB_CLIENT_SECRET") }}
{{- end }}
{{- if $ctx.Values.config.registryWebhook.enabled }}
{{- $keys = append $keys "REGISTRY_WEBHOOK_TOKEN" }}
{{- end }}
{{- end -}}
envFrom:
  - configMapRef:
      name: {{ include "apprunner-k8s.fullname" $ctx }}
env:
{{- range $key := $keys }}
  - name: {{ $key }}
    valueFrom:
      secretKeyRef:
        name: {{ include "apprunner-k8s.secretName" $ctx }}
        key: {{ $key }}
{{- end }}
{{- if and (eq .component "worker") (include "apprunner-k8s.registryAuthSecret" $ctx) }}
  - name: BUILD_REGISTRY_AUTH_FILE
    value: {{ include "apprunner-k8s.registryAuthFile" $ctx }}
{{- end }}
{{- with .shutdownTimeoutSeconds }}
  - name: SHUTDOWN_TIMEOUT_SECONDS
    value: {{ . | quote }}
{{- end }}
{{- end }}

{{/* "true" when the GitHub App is configured (config.github.appId), "" otherwise. */}}
{{- define "apprunner-k8s.githubEnabled" -}}
{{- if include "apprunner-k8s.githubAppId" . }}true{{ end }}
{{- end }}

{{/*
config.github.appId as digits: a number from a values file arrives as a float (1234567 would print as 1.234567e+06)
and one from --set as an integer; a string is kept as written (int64 would read "0123" as octal).
*/}}
{{- define "apprunner-k8s.githubAppId" -}}
{{- $id := .Values.config.github.appId }}
{{- if kindIs "string" $id }}{{ $id }}{{ else if not (kindIs "invalid" $id) }}{{ $id | int64 }}{{ end }}
{{- end }}

{{/* PUBLIC_URL: config.publicUrl, else the API's Ingress, else "". */}}
{{- define "apprunner-k8s.publicUrl" -}}
{{- if .Values.config.publicUrl }}
{{- .Values.config.publicUrl | trimSuffix "/" }}
{{- else if and .Values.ingress.enabled .Values.ingress.host }}
{{- printf "%s://%s" (ternary "https" "http" (not (empty .Values.ingress.tlsSecretName))) .Values.ingress.host }}
{{- end }}
{{- end }}

{{/* The in-chart registry's Service, host:port as the worker, the build Jobs and (once told) the nodes reach it. */}}
{{- define "apprunner-k8s.inClusterRegistry" -}}
{{- printf "%s-registry.%s.svc:5000" (include "apprunner-k8s.fullname" .) .Release.Namespace }}
{{- end }}

{{/* BUILD_REGISTRY: build.registry.host, else the in-chart registry when enabled, else "". */}}
{{- define "apprunner-k8s.buildRegistry" -}}
{{- $r := .Values.build.registry }}
{{- if $r.host }}{{ $r.host }}{{ else if $r.inCluster.enabled }}{{ include "apprunner-k8s.inClusterRegistry" . }}{{ end }}
{{- end }}

{{/* BUILD_REGISTRY_INSECURE: the in-chart registry speaks plain HTTP. */}}
{{- define "apprunner-k8s.buildRegistryInsecure" -}}
{{- $r := .Values.build.registry }}
{{- if or $r.insecure (and $r.inCluster.enabled (not $r.host)) }}true{{ else }}false{{ end }}
{{- end }}

{{/* The kubernetes.io/dockerconfigjson Secret with the push credential of the build registry; "" when pushes are anonymous. */}}
{{- define "apprunner-k8s.registryAuthSecret" -}}
{{- $r := .Values.build.registry }}
{{- if .Values.build.enabled }}
{{- if $r.existingAuthSecret }}{{ $r.existingAuthSecret }}{{ else if $r.username }}{{ printf "%s-registry-auth" (include "apprunner-k8s.fullname" .) }}{{ end }}
{{- end }}
{{- end }}

{{/* Where the worker finds the push credential (BUILD_REGISTRY_AUTH_FILE). */}}
{{- define "apprunner-k8s.registryAuthFile" -}}
/etc/apprunner-k8s/registry-auth/auth.json
{{- end }}

{{/* TCP port of a URL or of a registry host[:port][/path] ("https://h" 443, "http://h" 80, "h:5000/x" 5000). */}}
{{- define "apprunner-k8s.portOf" -}}
{{- $s := . }}
{{- $scheme := "https" }}
{{- if contains "://" $s }}
{{- $scheme = (splitList "://" $s | first) }}
{{- $s = (splitList "://" $s | last) }}
{{- end }}
{{- $hostPort := splitList "/" $s | first }}
{{- if contains ":" $hostPort }}{{ splitList ":" $hostPort | last }}{{ else if eq $scheme "http" }}80{{ else }}443{{ end }}
{{- end }}

{{/*
Evaluation mode only: the in-chart database comes up with the release, so the migrations run as an ordinary Job and
the API and the worker wait in an init container until `migrate status` reports the schema current.
*/}}
{{- define "apprunner-k8s.waitForMigrations" -}}
{{- if and .Values.evaluation.enabled .Values.migrations.enabled }}
initContainers:
  - name: wait-for-migrations
    image: {{ include "apprunner-k8s.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command:
      - sh
      - -c
      - until node dist/libs/persistence/src/migrate/cli.js status >/dev/null 2>&1; do echo "waiting for the database migrations"; sleep 3; done
    {{- include "apprunner-k8s.env" (dict "ctx" . "component" "init") | nindent 4 }}
    securityContext:
      {{- include "apprunner-k8s.containerSecurityContext" . | nindent 6 }}
    resources:
      {{- toYaml .Values.migrations.resources | nindent 6 }}
    volumeMounts:
      - name: tmp
        mountPath: /tmp
{{- end }}
{{- end }}

{{/* Egress every platform pod needs: DNS, PostgreSQL, Redis. */}}
{{- define "apprunner-k8s.egressBase" -}}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
- ports:
    - port: {{ .Values.networkPolicy.egress.databasePort }}
      protocol: TCP
    - port: {{ .Values.networkPolicy.egress.redisPort }}
      protocol: TCP
{{- end }}

{{/*
Egress ports beyond the base, to any destination (NetworkPolicy cannot name hosts): a JSON list. The API calls GitHub
(connection handshakes); the worker calls the Kubernetes API server, GitHub (installation tokens, sources), the
registries of image services (digests) and, with builds, the build registry and - buildah driver - whatever builds
download. Call with (dict "ctx" $ "component" "api"|"worker").
*/}}
{{- define "apprunner-k8s.egressPorts" -}}
{{- $ctx := .ctx }}
{{- $egress := $ctx.Values.networkPolicy.egress }}
{{- $ports := list }}
{{- if include "apprunner-k8s.githubEnabled" $ctx }}
{{- $ports = append $ports (include "apprunner-k8s.portOf" $ctx.Values.config.github.apiUrl | int) }}
{{- end }}
{{- if eq .component "worker" }}
{{- $ports = concat $ports $egress.kubernetesApiPorts $egress.imageRegistryPorts }}
{{- if $ctx.Values.build.enabled }}
{{- $ports = append $ports (include "apprunner-k8s.portOf" (include "apprunner-k8s.buildRegistry" $ctx) | int) }}
{{- if eq $ctx.Values.build.driver "buildah" }}
{{- $ports = concat $ports $egress.buildPorts }}
{{- end }}
{{- end }}
{{- end }}
{{- $unique := list }}
{{- range $ports }}{{ $unique = append $unique (int .) }}{{ end }}
{{- $unique | uniq | toJson }}
{{- end }}

{{- /* The worker's cluster-wide ClusterRole, and the one it binds in each tenant namespace (KUBE_TENANT_ROLE). */}}
{{- define "apprunner-k8s.workerClusterRole" -}}
{{- printf "%s-%s-worker" .Release.Namespace (include "apprunner-k8s.fullname" .) | trunc 246 | trimSuffix "-" }}
{{- end }}
{{- define "apprunner-k8s.workerTenantRole" -}}
{{- printf "%s-tenant" (include "apprunner-k8s.workerClusterRole" .) }}
{{- end }}
