# The legacy PHP application: Apache + mod_php with the front controller in legacy/public.
FROM php:8.2-apache
RUN docker-php-ext-install pdo_mysql \
 && a2enmod rewrite \
 && sed -ri 's!/var/www/html!/srv/legacy/public!g' /etc/apache2/sites-available/000-default.conf \
 && printf '<Directory /srv/legacy/public>\n  AllowOverride None\n  Require all granted\n  FallbackResource /index.php\n</Directory>\n' \
      > /etc/apache2/conf-enabled/legacy.conf
COPY legacy /srv/legacy
WORKDIR /srv/legacy
