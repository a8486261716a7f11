// The files of a private phpLDAPadmin (scripts/lib/phpldapadmin.mjs): its
// config.php, the saved search of zenroll's log, and the Apache config that
// serves it. Pure text; no I/O here. docs/ldap-browser.md quotes the lines
// that matter for a person's own Debian install.

/** The saved search's id: its file is queries/<id>.xml, its URL names it. */
export const QUERY_ID = 'zenroll-rollup-log';
export const QUERY_FILTER = '(objectClass=zeninvRollUpTarget)';

// PHP single-quoted string literal.
const php = (s) => `'${String(s).replace(/[\\']/g, (c) => `\\${c}`)}'`;
const xml = (s) => String(s).replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * config.php for one LDAP server: read-only, no template warnings, login by
 * DN (kept in the server-side session), times shown in UTC like the records.
 */
export function plaConfigPhp(o) {
  return `<?php
/* zenroll: phpLDAPadmin for reading the roll-up log (scripts/lib/phpldapadmin-config.mjs). Generated. */
$config->custom->session['blowfish'] = ${php(o.secret)};
$config->custom->appearance['timezone'] = 'UTC';
/* zenroll's objects carry an auxiliary class no template knows: without this,
   every object page starts with a warning about templates. */
$config->custom->appearance['hide_template_warning'] = true;
$config->custom->appearance['friendly_attrs'] = array();
/* phpLDAPadmin 1.2.6 draws an auxiliary objectClass in an editable box even
   when the server is read-only: hidden, so that nothing on a page looks editable. */
$config->custom->appearance['hide_attrs'] = array('objectClass');

$servers = new Datastore();
$servers->newServer('ldap_pla');
$servers->setValue('server','name',${php(o.name)});
$servers->setValue('server','host',${php(o.host)});
$servers->setValue('server','port',${Number(o.port)});
$servers->setValue('server','base',array(${php(o.base)}));
$servers->setValue('login','auth_type','session');
$servers->setValue('login','anon_bind',false);
/* A browser is for reading the log: no edit, create, rename or delete controls. */
$servers->setValue('server','read_only',${o.readOnly === false ? 'false' : 'true'});
$servers->setValue('appearance','show_create',false);
?>
`;
}

/** The saved search: every object that carries a roll-up log, its logs as columns. */
export function savedQueryXml(o) {
  const attrs = o.attributes
    .map(
      (a, i) => `<attribute id="${xml(a)}">
	<display>${xml(a)}</display>
	<order>${i + 1}</order>
	<ordersort>${i + 1}</ordersort>
</attribute>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE query SYSTEM "query.dtd">

<query>
<title>zenroll roll-up log</title>
<bases>
	<base>${xml(o.base)}</base>
</bases>
<filter><![CDATA[${QUERY_FILTER}]]></filter>
<description>Every server's roll-up log</description>
<icon>ldap-server.png</icon>
<scope>sub</scope>
<visible>1</visible>

<attributes>
${attrs}
</attributes>
</query>
`;
}

/**
 * httpd.conf of a private Apache: its own ServerRoot, pid, logs and loopback
 * port; the prefork MPM and mod_php, as Debian's libapache2-mod-php expects
 * (mod_log_config and mod_unixd are built into Debian's apache2).
 * `user` is set only when started as root (Apache then serves as that user).
 */
export function apacheConf(o) {
  const mod = (name, file) => `LoadModule ${name} ${o.moduleDir}/${file}`;
  return [
    '# A private Apache serving phpLDAPadmin for zenroll (scripts/lib/phpldapadmin.mjs). Generated.',
    `ServerRoot "${o.root}"`,
    'ServerName 127.0.0.1',
    `Listen 127.0.0.1:${o.port}`,
    `PidFile "${o.root}/httpd.pid"`,
    `DefaultRuntimeDir "${o.root}"`,
    `ErrorLog "${o.root}/error.log"`,
    'LogLevel warn',
    mod('mpm_prefork_module', 'mod_mpm_prefork.so'),
    mod('authz_core_module', 'mod_authz_core.so'),
    mod('mime_module', 'mod_mime.so'),
    mod('dir_module', 'mod_dir.so'),
    mod('alias_module', 'mod_alias.so'),
    mod('php_module', o.phpModule),
    ...(o.user ? [`User ${o.user}`, `Group ${o.group}`] : []),
    // Two cores shared with everything else: a few workers are plenty for one browser.
    'StartServers 1',
    'MinSpareServers 1',
    'MaxSpareServers 3',
    'MaxRequestWorkers 6',
    `CustomLog "${o.root}/access.log" "%h %t \\"%r\\" %>s %b"`,
    `TypesConfig "${o.mimeTypes}"`,
    `DocumentRoot "${o.htdocs}"`,
    '<Directory />',
    '  Require all denied',
    '  AllowOverride None',
    '</Directory>',
    `<Directory "${o.htdocs}">`,
    '  Require all granted',
    '  DirectoryIndex index.php',
    '  <FilesMatch "\\.php$">',
    '    SetHandler application/x-httpd-php',
    '  </FilesMatch>',
    `  php_admin_value session.save_path "${o.sessions}"`,
    `  php_admin_value error_log "${o.root}/php.log"`,
    '  php_admin_flag log_errors on',
    `  php_admin_value upload_tmp_dir "${o.sessions}"`,
    '</Directory>',
    '',
  ].join('\n');
}
