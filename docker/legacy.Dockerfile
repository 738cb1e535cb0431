# The legacy PHP application under PHP-FPM, speaking FastCGI on port 9000: the gateway runs its
# scripts over FastCGI and serves legacy/public's files itself, so no web server runs here.
FROM php:8.2-fpm
RUN docker-php-ext-install pdo_mysql \
 && printf '[www]\n; DB_DSN, DB_USER and DB_PASSWORD reach PHP (src/db.php reads them)\nclear_env = no\n' \
      > /usr/local/etc/php-fpm.d/zz-legacy.conf
COPY legacy /srv/legacy
WORKDIR /srv/legacy
