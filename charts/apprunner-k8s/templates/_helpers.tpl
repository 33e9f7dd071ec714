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

{{/* The environment of the API, the worker and their init containers: the ConfigMap plus the four secrets. */}}
{{- define "apprunner-k8s.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "apprunner-k8s.fullname" . }}
env:
{{- range $key := list "DATABASE_URL" "REDIS_URL" "MASTER_KEY" "ADMIN_TOKEN" }}
  - name: {{ $key }}
    valueFrom:
      secretKeyRef:
        name: {{ include "apprunner-k8s.secretName" $ }}
        key: {{ $key }}
{{- end }}
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
    {{- include "apprunner-k8s.env" . | nindent 4 }}
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
